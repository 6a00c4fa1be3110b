// The small stack booted for real (issue 4): its one host from exactly the user data
// `studyhost plan --out` renders, under systemd in a container, a certificate from Pebble, then checked
// from the "internet" namespace and hurt on purpose.
//
// The stack is the small tier with a stand-in app (test/e2e/app/app.py: WSGI under the distribution's
// gunicorn, SQLite through DATABASE_URL), fetched with git from a server in the internet namespace:
// PyPI cannot be reached here. Everything else is what a user's small stack renders.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/small.e2e.ts
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { boot, BootedHost, collect, E2E_DIR, exec, Net, netDown, netUp, powerOff, prepareHost, PreparedHost, removeHost, tcpProbe, waitForBoot, missingPrerequisites } from "./boot";

const REPO = resolve(E2E_DIR, "../..");
const LAB = 1;
const DOMAIN = "study.example.org";
const ADMIN = "203.0.113.10";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA placeholder-replace-with-your-own-public-key";

jest.setTimeout(25 * 60_000);

let work: string;
let net: Net;
let host: PreparedHost;
let booted: BootedHost | undefined;
let gitServer: ChildProcess | undefined;
const timings: Record<string, number> = {};
let bootStartedAt = 0;

/** Run a command in the internet namespace: what a participant's browser (or an attacker) sees. */
function fromInternet(cmd: string[], timeoutMs = 30_000) {
  return spawnSync("ip", ["netns", "exec", net.internet.netns, ...cmd], { encoding: "utf8", timeout: timeoutMs });
}

function https(path: string, extra: string[] = []) {
  const addr = net.hosts[0].address;
  return fromInternet(["curl", "-sS", "--max-time", "10", "--cacert", net.acme!.root, "--resolve", `${DOMAIN}:443:${addr}`, ...extra, `https://${DOMAIN}${path}`]);
}

/** Until the app answers through nginx again (after a restart, a restore, a reboot), at most `ms`. */
async function appAnswers(ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (https("/health").stdout === "studyhost e2e app: ok\n") return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the app did not answer through nginx within ${ms} ms`);
}

function inside(cmd: string) {
  return exec(booted!, ["bash", "-c", cmd], { timeoutMs: 120_000 });
}

/** A bare git repository of the stand-in app, tagged v1, served over dumb HTTP from the internet side. */
function serveApp(): string {
  const src = join(work, "app-src");
  cpSync(join(E2E_DIR, "app"), src, { recursive: true });
  const git = (args: string[], cwd: string) => {
    const r = spawnSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "studyhost", GIT_AUTHOR_EMAIL: "e2e@example.org", GIT_COMMITTER_NAME: "studyhost", GIT_COMMITTER_EMAIL: "e2e@example.org" } });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  };
  git(["init", "-q", "-b", "main"], src);
  git(["add", "."], src);
  git(["commit", "-q", "-m", "stand-in study app"], src);
  git(["tag", "v1"], src);
  const served = join(work, "git");
  mkdirSync(served);
  git(["clone", "-q", "--bare", src, join(served, "app.git")], work);
  git(["update-server-info"], join(served, "app.git"));
  gitServer = spawn("ip", ["netns", "exec", net.internet.netns, "python3", "-m", "http.server", "--bind", net.internet.address, "8080", "--directory", served], { stdio: "ignore", detached: true });
  return `http://${net.internet.address}:8080/app.git`;
}

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  work = mkdtempSync("/var/tmp/studyhost-e2e-small-");
  const t0 = Date.now();
  const image = spawnSync(join(E2E_DIR, "rootfs.sh"), ["base"], { encoding: "utf8" });
  if (image.status !== 0) throw new Error(`rootfs.sh base failed:\n${image.stderr}`);
  timings.imageMs = Date.now() - t0;

  net = netUp({ lab: LAB, acme: true, admin: ADMIN, hosts: [{ name: "study-app" }] });
  const stack = {
    config: {
      "studyhost:cloud": "digitalocean",
      "studyhost:tier": "small",
      "studyhost:domain": DOMAIN,
      "studyhost:adminEmail": "research-it@example.org",
      "studyhost:adminCidrs": [`${ADMIN}/32`],
      "studyhost:sshKeys": [KEY],
      "studyhost:database": { engine: "sqlite" },
      "studyhost:app": {
        kind: "python",
        name: "study",
        source: { git: serveApp(), ref: "v1" },
        aptPackages: ["gunicorn"],
        systemSitePackages: true,
        start: "python3 -m gunicorn --bind 127.0.0.1:${PORT} app:application",
        port: 8000,
        healthPath: "/health",
      },
      "studyhost:tls": { acmeDirectory: net.acme!.directory, caBundle: readFileSync(net.acme!.endpointCa, "utf8") },
    },
  };
  const stackFile = join(work, "Pulumi.e2e-small.yaml");
  writeFileSync(stackFile, stringify(stack));
  const plan = spawnSync("node", [join(REPO, "bin/studyhost.js"), "plan", "--config", stackFile, "--out", join(work, "plan")], { encoding: "utf8" });
  if (plan.status !== 0) throw new Error(`studyhost plan failed:\n${plan.stdout}${plan.stderr}`);

  host = prepareHost({ name: "study-app", userData: join(work, "plan", "study-app", "user-data"), dir: join(work, "study-app") });
  const t1 = Date.now();
  bootStartedAt = t1;
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  await waitForBoot(booted);
  timings.bootToProvisionedMs = Date.now() - t1;
});

afterAll(async () => {
  if (booted) await powerOff(booted);
  if (host) removeHost(host, { data: true });
  if (gitServer?.pid) spawnSync("kill", ["--", `-${gitServer.pid}`]);
  if (net) netDown(LAB);
  console.log(`small stack end to end: ${JSON.stringify(timings)} (work folder ${work})`);
  // Figures, not assertions: boot to a provisioned host answering over https, and the faults' recovery.
  mkdirSync(join(REPO, "bench", "results"), { recursive: true });
  writeFileSync(join(REPO, "bench", "results", "e2e-small.json"), JSON.stringify({ measuredAt: new Date().toISOString(), note: "packages pre-installed in the test image; a cloud VM also downloads them", ...timings }, null, 2) + "\n");
});

test("cloud-init finished, every provisioning step passed, no unit failed", () => {
  const report = collect(booted!);
  expect({ failed: report.failedUnits, steps: report.provisionFailures, finished: report.provisionFinished, state: report.systemState }).toEqual({
    failed: [],
    steps: [],
    finished: true,
    state: "running",
  });
});

test("https answers from the app through nginx, with a chain Pebble's root verifies; http redirects", () => {
  timings.bootToHttpsMs = Date.now() - bootStartedAt;
  const page = https("/");
  expect([page.status, page.stdout]).toEqual([0, "studyhost e2e app: ok\n"]);
  const redirect = fromInternet(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--resolve", `${DOMAIN}:80:${net.hosts[0].address}`, `http://${DOMAIN}/x?y=1`]);
  expect(redirect.stdout).toBe(`308 https://${DOMAIN}/x?y=1`);
});

test("a write then a read through the app reaches the database on the data volume", () => {
  expect(https("/write?body=first%20participant").stdout).toBe("written\n");
  expect(JSON.parse(https("/read").stdout)).toEqual(["first participant"]);
  expect(readFileSync(join(host.data, "study", "study.sqlite3")).length).toBeGreaterThan(0);
});

test("from the internet only 80 and 443 are open; 22 only from the admin address, and it refuses passwords", () => {
  const addr = net.hosts[0].address;
  expect(tcpProbe(net.internet.netns, addr, 80)).toMatch(/^open/);
  expect(tcpProbe(net.internet.netns, addr, 443)).toMatch(/^open/);
  expect(tcpProbe(net.internet.netns, addr, 22)).toBe("timeout");
  expect(tcpProbe(net.internet.netns, addr, 8000)).toBe("timeout");
  expect(tcpProbe(net.internet.netns, addr, 5432)).toBe("timeout");
  expect(tcpProbe(net.internet.netns, addr, 22, ADMIN)).toMatch(/^open SSH-2\.0-OpenSSH/);
  const ssh = fromInternet(["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password,keyboard-interactive", "-b", ADMIN, `studyadmin@${addr}`, "true"]);
  expect(ssh.status).not.toBe(0);
  expect(ssh.stderr).toMatch(/Permission denied \(publickey\)/);
});

test("kill the app's main process: it serves again within 15 s", async () => {
  const pid = inside("systemctl show -p MainPID --value study.service").stdout.trim();
  expect(inside(`kill -9 ${pid}`).status).toBe(0);
  timings.appRecoveredMs = await appAnswers(15_000);
  expect(inside("systemctl show -p MainPID --value study.service").stdout.trim()).not.toBe(pid);
});

test("backup, delete the row, restore: the row is back", async () => {
  expect(inside("systemctl start studyhost-backup.service").status).toBe(0);
  expect(inside("sqlite3 /var/lib/studyhost/study/study.sqlite3 'DELETE FROM notes'").status).toBe(0);
  expect(JSON.parse(https("/read").stdout)).toEqual([]);
  const restore = inside("studyhost-restore --yes");
  expect([restore.status, restore.stderr]).toEqual([0, ""]);
  await appAnswers(15_000); // the restore stopped and started the app
  expect(JSON.parse(https("/read").stdout)).toEqual(["first participant"]);
});

test("certbot renew --dry-run against Pebble succeeds and reloads nginx", () => {
  const before = inside("systemctl show -p ExecMainStartTimestampMonotonic --value nginx.service; journalctl -u nginx.service --no-pager | grep -c Reload || true").stdout;
  const renew = inside(`REQUESTS_CA_BUNDLE=/etc/studyhost/acme-ca.pem certbot renew --dry-run --no-random-sleep-on-renew --server ${net.acme!.directory}`);
  expect(renew.status).toBe(0);
  expect(renew.stdout + renew.stderr).toMatch(/Congratulations, all simulated renewals succeeded/);
  const after = inside("journalctl -u nginx.service --no-pager | grep -c Reload || true").stdout;
  expect(Number(after.trim().split("\n").pop())).toBeGreaterThan(Number(before.trim().split("\n").pop()));
  expect(https("/").status).toBe(0);
});

test("power off, boot the same root again: everything comes back, the data intact, the volume not reformatted", async () => {
  const marker = inside("stat -c %W /var/lib/studyhost/study/study.sqlite3").stdout.trim();
  await powerOff(booted!);
  const t0 = Date.now();
  booted = await boot(host, { netnsPath: net.hosts[0].netnsPath });
  const second = await waitForBoot(booted);
  timings.rebootMs = Date.now() - t0;
  expect(second.systemState).toBe("running");
  expect(collect(booted).failedUnits).toEqual([]);
  expect(inside("stat -c %W /var/lib/studyhost/study/study.sqlite3").stdout.trim()).toBe(marker);
  timings.rebootToAppMs = timings.rebootMs + (await appAnswers(60_000));
  expect(JSON.parse(https("/read").stdout)).toEqual(["first participant"]);
});
