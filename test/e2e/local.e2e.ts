// `studyhost local` as a user runs it: the compiled command boots a small stack with PostgreSQL on the
// app host and the stand-in app from a local git repository, shows its progress, leaves it running,
// prints how to reach it and how to stop it; a second start of the same lab from another state
// folder is refused; `--stop` removes everything it made.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { ADMIN, DOMAIN, PLACEHOLDER_KEY, REPO, standInApp, standInRepo } from "./lab";

const LAB = 3;
jest.setTimeout(25 * 60_000);

const work = mkdtempSync("/var/tmp/studyhost-e2e-local-");
const stateDir = join(work, "local");
const studyhost = (args: string[], localDir = stateDir) =>
  spawnSync(process.execPath, [join(REPO, "bin/studyhost.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, STUDYHOST_LOCAL_DIR: localDir },
    timeout: 20 * 60_000,
  });
const labNamespaces = () =>
  spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l.startsWith(`studyhost-e2e-${LAB}-`));

let started: ReturnType<typeof studyhost>;
const stackFile = join(work, "Pulumi.try.yaml");

beforeAll(() => {
  const app = { ...standInApp("https://git.example.org/lab/study.git"), source: { git: "https://git.example.org/lab/study.git", ref: "v1" } };
  // PostgreSQL on the app host: the plan's databaseHost is "localhost", no private network.
  const config = {
    cloud: "digitalocean",
    tier: "small",
    domain: DOMAIN,
    adminEmail: "research-it@example.org",
    adminCidrs: [`${ADMIN}/32`],
    sshKeys: [PLACEHOLDER_KEY],
    database: { engine: "postgres" },
    app,
  };
  writeFileSync(stackFile, stringify({ config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`studyhost:${k}`, v])) }));
  started = studyhost(["local", "--config", stackFile, "--app-source", standInRepo(work), "--lab", String(LAB)]);
  console.log(`studyhost local:\n${started.stdout}${started.stderr}`);
});

afterAll(() => {
  // Whatever the tests did, leave nothing running.
  if (labNamespaces().length) studyhost(["local", "--stop", "--lab", String(LAB)]);
});

test("starts the stack and prints its URL, address, how to try it and how to stop it", () => {
  expect(started.status).toBe(0);
  expect(started.stdout).toContain(`url      https://${DOMAIN}/`);
  expect(started.stdout).toMatch(new RegExp(`address  10\\.231\\.${LAB}\\.11  study-app\\n`));
  expect(started.stdout).toContain(`stop     studyhost local --stop --lab ${LAB}`);
});

test("shows each provisioning step as it starts and ends, the app's and PostgreSQL's among them", () => {
  const lines = started.stderr.split("\n");
  const begun = lines.map((l) => l.match(/^ {2}study-app: (\S+) \.\.\.$/)?.[1]).filter(Boolean);
  const ended = lines.map((l) => l.match(/^ {2}study-app: (\S+) done \(\d+\.\d s\)$/)?.[1]).filter(Boolean);
  expect(begun.length).toBeGreaterThan(3);
  expect(ended).toEqual(begun);
  expect(begun.join(" ")).toMatch(/postgres/);
  expect(lines).toContain("  study-app: provisioned");
  expect(lines.some((l) => /^ {2}study-app: cloud-init modules:final$/.test(l))).toBe(true);
});

test("the printed curl reaches the app over https; a write then a read reach PostgreSQL on the app host", () => {
  const line = started.stdout.split("\n").find((l) => l.trimStart().startsWith("try it"))!;
  const curl = line.replace(/^\s*try it\s+/, "").split(" ");
  const get = (path: string) =>
    spawnSync(curl[0], ["-sS", "--max-time", "10", ...curl.slice(1, -1), `${curl[curl.length - 1].replace(/\/$/, "")}${path}`], { encoding: "utf8" });
  expect([get("/").status, get("/").stdout]).toEqual([0, "studyhost e2e app: ok\n"]);
  expect(get("/write?body=answered%20locally").stdout).toBe("written\n");
  expect(JSON.parse(get("/read").stdout)).toEqual(["answered locally"]);
  // The row is in PostgreSQL on the host itself (not SQLite): the cluster on the data volume.
  const pid = readFileSync(join(stateDir, `lab-${LAB}`, "hosts", "study-app", "nspawn.pid"), "utf8").trim();
  const leader = spawnSync("pgrep", ["-P", pid, "-x", "systemd"], { encoding: "utf8" }).stdout.trim();
  const psql = spawnSync(
    "nsenter",
    ["-t", leader, "-a", "runuser", "-u", "postgres", "--", "psql", "-XAt", "-d", "study", "-c", "SELECT body FROM notes; SHOW data_directory"],
    { encoding: "utf8" },
  );
  expect(psql.stdout.trim().split("\n")).toEqual(["answered locally", expect.stringMatching(/^\/var\/lib\/studyhost\/postgresql\/\d+\/main$/)]);
});

test("a second start of the same lab is refused, even from another state folder, naming how to stop the first", () => {
  const elsewhere = join(work, "elsewhere");
  const again = studyhost(["local", "--config", stackFile, "--lab", String(LAB)], elsewhere);
  const pid = readFileSync(join(stateDir, `lab-${LAB}`, "hosts", "study-app", "nspawn.pid"), "utf8").trim();
  expect([again.status, again.stderr.trim()]).toEqual([
    1,
    `lab ${LAB} is in use: its hosts study-app (pid ${pid}) are running; stop it with \`STUDYHOST_LOCAL_DIR=${stateDir} studyhost local --stop --lab ${LAB}\`, or give another --lab`,
  ]);
  expect(existsSync(join(elsewhere, `lab-${LAB}`))).toBe(false);
});

test("--stop powers the host off and removes its disk, data, network, cgroups and state", () => {
  const hostDir = join(stateDir, `lab-${LAB}`, "hosts", "study-app");
  const pid = Number(readFileSync(join(hostDir, "nspawn.pid"), "utf8").trim());
  const cgroups = readFileSync(join(hostDir, "cgroups"), "utf8").split("\n").filter(Boolean);
  expect(cgroups.length).toBeGreaterThan(0);
  expect(cgroups.every((d) => existsSync(d))).toBe(true);
  const stop = studyhost(["local", "--stop", "--lab", String(LAB)]);
  expect(stop.status).toBe(0);
  expect(stop.stderr).toMatch(/powered off study-app/);
  expect(existsSync(`/proc/${pid}`)).toBe(false);
  expect(cgroups.filter((d) => existsSync(d))).toEqual([]);
  expect(labNamespaces()).toEqual([]);
  expect(existsSync(join(stateDir, `lab-${LAB}`))).toBe(false);
});
