// The two-server stack booted for real (issue 4): the app host and the PostgreSQL host, each from
// exactly the user data `studyhost plan --out` renders, joined by a private network that neither the
// internet namespace nor the machine can reach. The stand-in app (test/e2e/app/app.py) writes to
// PostgreSQL on the database host through the distribution's psycopg2, over TLS.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/two-server.e2e.ts
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  boot,
  BootedHost,
  collect,
  exec,
  missingPrerequisites,
  ensureImage,
  Net,
  netDown,
  netUp,
  powerOff,
  prepareHost,
  PreparedHost,
  removeHost,
  tcpProbe,
  waitForBoot,
} from "../../src/local/boot";
import { ServedRepo, stopServer } from "../../src/local/gitServe";
import {
  ADMIN,
  appAnswers,
  DOMAIN,
  https,
  PLACEHOLDER_KEY,
  provisioning,
  PROVISIONED_CLEANLY,
  reachablePorts,
  recordFigures,
  renderStack,
  serveApp,
  sshWithPassword,
  standInApp,
} from "./lab";

const LAB = 2;
jest.setTimeout(30 * 60_000);

let work: string;
let net: Net;
const hosts: Record<string, PreparedHost> = {};
const booted: Record<string, BootedHost> = {};
let gitServer: ServedRepo | undefined;
let appAddress: string;
let dbPrivate: string;
const figures: Record<string, number> = {};

beforeAll(async () => {
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`the end-to-end tests need: ${missing.join(", ")}`);
  work = mkdtempSync("/var/tmp/studyhost-e2e-two-server-");
  ensureImage();

  // The plan decides the database host's private address (it is in the app's DATABASE_URL, and the
  // mock engine derives it from the host's name): read it from a first render, then build the lab's
  // private network with it, then render the stack for real with the lab's ACME server.
  const stack = (app: object, tls: object) => ({
    cloud: "digitalocean",
    tier: "two-server",
    domain: DOMAIN,
    adminEmail: "research-it@example.org",
    adminCidrs: [`${ADMIN}/32`],
    sshKeys: [PLACEHOLDER_KEY],
    app,
    tls,
  });
  const probe = renderStack(join(work, "probe"), "e2e-two-server", stack(standInApp("http://git.invalid/app.git"), {}));
  dbPrivate = String(probe.plan.outputs.databaseHost);
  net = netUp({
    lab: LAB,
    acme: true,
    admin: ADMIN,
    hosts: [
      { name: "study-app", privateAddress: "10.116.0.2/20" },
      { name: "study-db", privateAddress: `${dbPrivate}/20` },
    ],
  });
  const served = serveApp(work, net);
  gitServer = served;
  const rendered = renderStack(
    work,
    "e2e-two-server",
    stack(standInApp(served.url), { acmeDirectory: net.acme!.directory, caBundle: readFileSync(net.acme!.endpointCa, "utf8") }),
  );
  expect(String(rendered.plan.outputs.databaseHost)).toBe(dbPrivate);
  appAddress = net.hosts[0].address;

  const t0 = Date.now();
  for (const [i, name] of ["study-app", "study-db"].entries()) {
    hosts[name] = prepareHost({ name, userData: join(rendered.outDir, name, "user-data"), dir: join(work, name) });
    booted[name] = await boot(hosts[name], { netnsPath: net.hosts[i].netnsPath });
  }
  const settled = await Promise.all(Object.values(booted).map((b) => waitForBoot(b, 20 * 60_000)));
  figures.bothProvisionedMs = Date.now() - t0;
  [figures.appHostProvisionedMs, figures.databaseHostProvisionedMs] = settled.map((r) => r.settledMs);
  // A figure only: if the app never answers, the tests below say why (failed units, journals).
  if (
    await appAnswers(net, appAddress, 60_000).then(
      () => true,
      () => false,
    )
  )
    figures.bootToHttpsMs = Date.now() - t0;
});

afterAll(async () => {
  for (const b of Object.values(booted)) await powerOff(b);
  for (const h of Object.values(hosts)) removeHost(h, { data: true });
  if (gitServer) stopServer(gitServer.pid);
  if (net) netDown(LAB);
  console.log(`two-server stack end to end: ${JSON.stringify(figures)} (work folder ${work})`);
  recordFigures("e2e-two-server", figures);
});

test("both hosts: cloud-init finished, every provisioning step passed, no unit failed", () => {
  for (const name of ["study-app", "study-db"]) {
    const r = collect(booted[name]);
    expect({ name, ...provisioning(r) }).toEqual({ name, ...PROVISIONED_CLEANLY });
  }
});

/** PID 1's cgroup in each hierarchy, as the machine sees it: "name=systemd" -> "/studyhost-study-app-1a2b3c4d/payload/init.scope". */
function cgroupsOf(b: BootedHost): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${b.leader}/cgroup`, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [, controllers, path] = l.split(":");
        return [controllers || "unified", path];
      }),
  );
}

test("each host in a cgroup of its own, in every hierarchy: restarting a unit on one never touches the other's", () => {
  const app = cgroupsOf(booted["study-app"]);
  const db = cgroupsOf(booted["study-db"]);
  expect(Object.keys(app).sort()).toEqual(Object.keys(db).sort());
  expect(Object.keys(app)).toContain("name=systemd");
  for (const h of Object.keys(app)) {
    expect([h, app[h]]).toEqual([h, expect.stringMatching(/\/studyhost-study-app-[0-9a-f]{8}(\/|$)/)]);
    expect([h, db[h]]).toEqual([h, expect.stringMatching(/\/studyhost-study-db-[0-9a-f]{8}(\/|$)/)]);
  }

  // The race that failed hosts with 219/CGROUP: both hosts' systemds making and removing the same
  // unit's cgroup at once. 100 short transient units on each, side by side (three names, reused):
  // every one must start. With both hosts in one cgroup tree (the harness before cgroup.sh), the same
  // loop failed 71 of 300 units with "Failed at step CGROUP" on this machine.
  const loop = (b: BootedHost) =>
    `nsenter -t ${b.leader} -a -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c 'f=0; for i in $(seq 1 100); do systemd-run --quiet --wait --unit=studyhost-race-$((i % 3)) true || f=$((f + 1)); systemctl reset-failed 2>/dev/null; done; echo "failed $f"'`;
  const both = spawnSync("bash", ["-c", `${loop(booted["study-app"])} & ${loop(booted["study-db"])} & wait`], { encoding: "utf8", timeout: 300_000 });
  expect({ out: both.stdout, err: both.stderr }).toEqual({ out: "failed 0\nfailed 0\n", err: "" });

  // Stopping the unit on one host leaves the other's running: same main process, same cgroup.
  const mainPid = (name: string) => exec(booted[name], ["systemctl", "show", "-p", "MainPID", "--value", "ssh.service"]).stdout.trim();
  const appSsh = mainPid("study-app");
  expect(Number(appSsh)).toBeGreaterThan(0);
  expect(exec(booted["study-db"], ["systemctl", "stop", "ssh.service"]).status).toBe(0);
  expect([mainPid("study-app"), exec(booted["study-app"], ["systemctl", "is-active", "ssh.service"]).stdout.trim()]).toEqual([appSsh, "active"]);
  expect(exec(booted["study-db"], ["systemctl", "start", "ssh.service"]).status).toBe(0);
  expect(mainPid("study-app")).toBe(appSsh);
  for (const name of ["study-app", "study-db"]) expect([name, collect(booted[name]).failedUnits]).toEqual([name, []]);
});

test("https answers from the app; a write then a read reaches PostgreSQL on the database host", () => {
  expect(https(net, appAddress, "/").stdout).toBe("studyhost e2e app: ok\n");
  expect(https(net, appAddress, "/write?body=across%20the%20network").stdout).toBe("written\n");
  expect(JSON.parse(https(net, appAddress, "/read").stdout)).toEqual(["across the network"]);
  const rows = exec(booted["study-db"], ["runuser", "-u", "postgres", "--", "psql", "-At", "-d", "study", "-c", "SELECT body FROM notes"]);
  expect(rows.stdout.trim()).toBe("across the network");
});

test("the database port answers the app host over the private network, and not the internet", () => {
  const fromApp = exec(booted["study-app"], ["pg_isready", "--host", dbPrivate, "--port", "5432"]);
  expect(fromApp.status).toBe(0);
  const dbPublic = net.hosts[1].address;
  expect(tcpProbe(net.internet.netns, dbPublic, 5432)).toBe("timeout");
});

test("from the internet: the app host opens 80 and 443, the database host nothing; 22 only from the admin address, keys only", () => {
  const app = reachablePorts(net, booted["study-app"], appAddress);
  expect(app.listening).toEqual(expect.arrayContaining([22, 80, 443, 8000]));
  expect([app.fromInternet, app.fromAdmin]).toEqual([
    [80, 443],
    [22, 80, 443],
  ]);
  const db = reachablePorts(net, booted["study-db"], net.hosts[1].address);
  expect(db.listening).toEqual(expect.arrayContaining([22, 5432]));
  expect([db.fromInternet, db.fromAdmin]).toEqual([[], [22]]);
  for (const address of [appAddress, net.hosts[1].address]) {
    const ssh = sshWithPassword(net, address);
    expect([address, ssh.status === 0, /Permission denied \(publickey\)/.test(ssh.stderr)]).toEqual([address, false, true]);
  }
});

test("restart PostgreSQL: the app recovers with no one touching it", async () => {
  expect(exec(booted["study-db"], ["systemctl", "restart", "postgresql.service"]).status).toBe(0);
  const t0 = Date.now();
  let rows: unknown = null;
  while (Date.now() - t0 < 30_000) {
    const r = https(net, appAddress, "/read");
    try {
      rows = JSON.parse(r.stdout);
      break;
    } catch {
      await new Promise((res) => setTimeout(res, 500));
    }
  }
  figures.appAfterDatabaseRestartMs = Date.now() - t0;
  expect(rows).toEqual(["across the network"]);
  await appAnswers(net, appAddress, 5_000);
});

function inside(name: string, cmd: string) {
  return exec(booted[name], ["bash", "-c", cmd], { timeoutMs: 120_000 });
}

/** Until /read answers with rows (the app reaches PostgreSQL again), at most `ms`: the rows, and how long it took. */
async function appReads(ms: number): Promise<{ rows: unknown; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const r = https(net, appAddress, "/read");
    try {
      return { rows: JSON.parse(r.stdout), ms: Date.now() - t0 };
    } catch {
      if (Date.now() - t0 > ms) throw new Error(`the app did not read from PostgreSQL within ${ms} ms: ${r.stdout}${r.stderr}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }
}

/** What identifies the cluster on the data volume: re-initialised, all of these change. */
function clusterIdentity(): string {
  const r = inside(
    "study-db",
    `set -e
data=$(ls -d /var/lib/studyhost/postgresql/*/main)
version=$(cat "$data/PG_VERSION")
runuser -u postgres -- /usr/lib/postgresql/$version/bin/pg_controldata "$data" | grep '^Database system identifier'
stat -c 'PG_VERSION inode %i born %W' "$data/PG_VERSION"`,
  );
  expect([r.status, r.stderr]).toEqual([0, ""]);
  return r.stdout.trim();
}

test("on the database host: backup, delete the row, restore: the row is back, the app host untouched", async () => {
  const appPid = inside("study-app", "systemctl show -p MainPID --value study.service").stdout.trim();
  expect(Number(appPid)).toBeGreaterThan(0);
  let t = Date.now();
  const backup = inside("study-db", "systemctl start studyhost-backup.service");
  figures.databaseBackupMs = Date.now() - t;
  expect([backup.status, backup.stderr]).toEqual([0, ""]);
  expect(inside("study-db", "ls /var/lib/studyhost/backups").stdout).toMatch(/^study-\d{8}T\d{6}Z\.dump$/m);

  const del = inside("study-db", "runuser -u postgres -- psql -At -d study -c 'DELETE FROM notes'");
  expect([del.status, del.stdout.trim()]).toEqual([0, "DELETE 1"]);
  expect(JSON.parse(https(net, appAddress, "/read").stdout)).toEqual([]);

  t = Date.now();
  const restore = inside("study-db", "studyhost-restore --yes");
  figures.databaseRestoreMs = Date.now() - t;
  expect([restore.status, restore.stderr]).toEqual([0, ""]);
  expect(restore.stdout).toMatch(/^restored study from \/var\/lib\/studyhost\/backups\/study-.*\.dump$/m);
  const after = await appReads(15_000);
  figures.appAfterDatabaseRestoreMs = after.ms;
  expect(after.rows).toEqual(["across the network"]);
  await appAnswers(net, appAddress, 5_000);
  // Nobody touched the app host: the same app process served before and after.
  expect(inside("study-app", "systemctl show -p MainPID --value study.service").stdout.trim()).toBe(appPid);
});

test("power off both hosts, boot the same roots again: both come back, the cluster on the volume not re-initialised, the row there", async () => {
  const identity = clusterIdentity();
  expect(identity).toMatch(/^Database system identifier:\s+\d+\nPG_VERSION inode \d+ born \d+$/);
  let t = Date.now();
  await Promise.all(Object.values(booted).map((b) => powerOff(b)));
  figures.bothPowerOffMs = Date.now() - t;

  t = Date.now();
  for (const [i, name] of ["study-app", "study-db"].entries()) booted[name] = await boot(hosts[name], { netnsPath: net.hosts[i].netnsPath });
  const results = await Promise.all(["study-app", "study-db"].map((name) => waitForBoot(booted[name])));
  figures.rebootBothMs = Date.now() - t;
  figures.rebootAppHostMs = results[0].settledMs;
  figures.rebootDatabaseHostMs = results[1].settledMs;
  for (const [i, name] of ["study-app", "study-db"].entries()) {
    const r = collect(booted[name]);
    expect({ name, state: results[i].systemState, failed: r.failedUnits, journals: r.failedJournals }).toEqual({
      name,
      state: "running",
      failed: [],
      journals: {},
    });
  }
  expect(clusterIdentity()).toBe(identity);
  figures.rebootToAppMs = figures.rebootBothMs + (await appAnswers(net, appAddress, 60_000));
  const rows = await appReads(15_000);
  expect(rows.rows).toEqual(["across the network"]);
});
