// `studyhost local` as a user runs it (issue 4): the compiled command boots the small stack with the
// stand-in app from a local git repository, leaves it running, prints how to reach it and how to
// stop it; `--stop` removes everything it made.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { ADMIN, DOMAIN, PLACEHOLDER_KEY, REPO, standInApp, standInRepo } from "./lab";

const LAB = 3;
jest.setTimeout(25 * 60_000);

const work = mkdtempSync("/var/tmp/studyhost-e2e-local-");
const env = { ...process.env, STUDYHOST_LOCAL_DIR: join(work, "local") };
const studyhost = (...args: string[]) => spawnSync(process.execPath, [join(REPO, "bin/studyhost.js"), ...args], { encoding: "utf8", env, timeout: 20 * 60_000 });
const labNamespaces = () => spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.startsWith(`studyhost-e2e-${LAB}-`));

let started: ReturnType<typeof studyhost>;
const stackFile = join(work, "Pulumi.try.yaml");

beforeAll(() => {
  const app = { ...standInApp("https://git.example.org/lab/study.git"), source: { git: "https://git.example.org/lab/study.git", ref: "v1" } };
  const config = { cloud: "digitalocean", tier: "small", domain: DOMAIN, adminEmail: "research-it@example.org", adminCidrs: [`${ADMIN}/32`], sshKeys: [PLACEHOLDER_KEY], database: { engine: "sqlite" }, app };
  writeFileSync(stackFile, stringify({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`studyhost:${k}`, v])) }));
  started = studyhost("local", "--config", stackFile, "--app-source", standInRepo(work), "--lab", String(LAB));
  console.log(`studyhost local:\n${started.stdout}${started.stderr}`);
});

afterAll(() => {
  // Whatever the tests did, leave nothing running.
  if (labNamespaces().length) studyhost("local", "--stop", "--lab", String(LAB));
});

test("starts the stack and prints its URL, address, how to try it and how to stop it", () => {
  expect(started.status).toBe(0);
  expect(started.stdout).toContain(`url      https://${DOMAIN}/`);
  expect(started.stdout).toMatch(new RegExp(`address  10\\.231\\.${LAB}\\.11  study-app`));
  expect(started.stdout).toContain(`stop     studyhost local --stop --lab ${LAB}`);
});

test("the printed curl command reaches the app through nginx over https, verified against the local ACME root", () => {
  const line = started.stdout.split("\n").find((l) => l.trimStart().startsWith("try it"))!;
  const curl = line.replace(/^\s*try it\s+/, "").split(" ");
  const r = spawnSync(curl[0], ["-sS", "--max-time", "10", ...curl.slice(1)], { encoding: "utf8" });
  expect([r.status, r.stderr, r.stdout]).toEqual([0, "", "studyhost e2e app: ok\n"]);
});

test("a second start is refused while the first runs", () => {
  const again = studyhost("local", "--config", stackFile, "--lab", String(LAB));
  expect([again.status, again.stderr.trim()]).toEqual([1, `a local stack (try) is already running in lab ${LAB}: stop it with \`studyhost local --stop --lab ${LAB}\``]);
});

test("--stop powers the host off and removes its disk, data, network and state", () => {
  const pidFile = join(work, "local", `lab-${LAB}`, "hosts", "study-app", "nspawn.pid");
  const pid = Number(spawnSync("cat", [pidFile], { encoding: "utf8" }).stdout.trim());
  expect(pid).toBeGreaterThan(0);
  const stop = studyhost("local", "--stop", "--lab", String(LAB));
  expect(stop.status).toBe(0);
  expect(stop.stderr).toMatch(/powered off study-app/);
  expect(existsSync(`/proc/${pid}`)).toBe(false);
  expect(labNamespaces()).toEqual([]);
  expect(existsSync(join(work, "local", `lab-${LAB}`))).toBe(false);
});
