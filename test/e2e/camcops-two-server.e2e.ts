// The camcops preset (seed 001) on the TWO-SERVER tier booted for real, lab 7: the camcops example
// (Pulumi.camcops.yaml) with tier two-server, both hosts from exactly the user data `studyhost plan
// --out` renders. MariaDB from Debian runs on the DATABASE host, on its private address and loopback,
// the app user admitted from the private network only and only over TLS (REQUIRE SSL, a certificate
// made on the host), 3306 open to the app host only, its backups and restore there; the app host runs
// camcops_server (a STAND-IN: standins/camcops-standin) in a venv, which opens the DB_URL studyhost
// writes (mysql+pymysql://...?charset=utf8mb4&ssl_check_hostname=false) with the REAL SQLAlchemy and
// the REAL PyMySQL (Debian's, repacked: standins/make_index.py), behind nginx with Pebble's certificate.
// No PostgreSQL on either host (the preset's database.engine none).
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/camcops-two-server.e2e.ts
import { join } from "node:path";
import {
  boot,
  BootedHost,
  collect,
  exec,
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
import { stopServer } from "../../src/local/gitServe";
import { ADMIN, exampleConfig, httpsGet, labConfig, provisioning, PROVISIONED_CLEANLY, renderStack, servePackageIndex, startRun, finishRun } from "./lab";

const LAB = 7;
const APP = "study-app";
const DB = "study-db";
const NAMES = [APP, DB] as const;
/** The app host's address on the private network (the plan's VPC is 10.116.0.0/20). */
const APP_PRIVATE = "10.116.0.2";
/** The app host's settings for the app user on the database host's MariaDB (mariadbClientPart). */
const CLIENT_CNF = "/etc/studyhost/mariadb-client.cnf";

jest.setTimeout(40 * 60_000);

let work: string;
let net: Net;
let dbPrivate: string;
const hosts: Record<string, PreparedHost> = {};
const booted: Record<string, BootedHost> = {};
const servers: number[] = [];
const figures: Record<string, number> = {};

const index = (name: string) => NAMES.indexOf(name as (typeof NAMES)[number]);
const inside = (name: string, cmd: string, input?: string) => exec(booted[name], ["bash", "-c", cmd], { timeoutMs: 120_000, input });
/** SQL as MariaDB's root on the database host (the socket), one value a line. */
const dbSql = (query: string) => inside(DB, "mariadb --batch --skip-column-names camcops", query);
const get = (path: string) => httpsGet(net, net.hosts[0].address, path);

async function bootHost(name: string): Promise<BootedHost> {
  booted[name] = await boot(hosts[name], { netnsPath: net.hosts[index(name)].netnsPath });
  return booted[name];
}

/** Until PATH answers 200 through nginx, at most `ms`; how long it took. */
async function answers(path: string, ms: number): Promise<number> {
  const t0 = Date.now();
  let last = { code: "", body: "" };
  while (Date.now() - t0 < ms) {
    last = get(path);
    if (last.code === "200") return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `${path} did not answer 200 through nginx within ${ms} ms (last: ${last.code} ${last.body.slice(0, 200)})\ncamcops.service:\n${inside(APP, "systemctl status --no-pager camcops.service; tail -n 30 /var/log/camcops/camcops.log").stdout}`,
  );
}

/** The counter of TLS handshakes MariaDB on the database host accepted. */
const sslAccepts = () => Number(dbSql("SHOW GLOBAL STATUS LIKE 'Ssl_accepts';").stdout.trim().split(/\s+/)[1]);

beforeAll(async () => {
  work = startRun("camcops-two-server", figures);

  // The camcops example on the two-server tier; only the lab's domain, admin address, ACME server and
  // package index change. The plan decides the database host's private address (it is in the app's
  // DB_URL): read it from a first render, build the lab's private network with it, render for real.
  const example = { ...exampleConfig("Pulumi.camcops.yaml"), tier: "two-server" };
  const probe = renderStack(join(work, "probe"), "e2e-camcops-two-server", labConfig(example, { pipIndexUrl: "http://index.invalid/simple/" }));
  dbPrivate = String(probe.plan.outputs.databaseHost);
  net = netUp({
    lab: LAB,
    acme: true,
    admin: ADMIN,
    hosts: [
      { name: APP, privateAddress: `${APP_PRIVATE}/20` },
      { name: DB, privateAddress: `${dbPrivate}/20` },
    ],
  });
  const served = servePackageIndex(work, net);
  servers.push(served.pid);
  const rendered = renderStack(work, "e2e-camcops-two-server", labConfig(example, { pipIndexUrl: served.url }, net));
  expect(String(rendered.plan.outputs.databaseHost)).toBe(dbPrivate);

  const t0 = Date.now();
  for (const name of NAMES) {
    hosts[name] = prepareHost({ name, userData: join(rendered.outDir, name, "user-data"), dir: join(work, name) });
    await bootHost(name);
  }
  const results = await Promise.all(NAMES.map((name) => waitForBoot(booted[name], 20 * 60_000)));
  figures.bootAppHostToProvisionedMs = results[0].settledMs;
  figures.bootDatabaseHostToProvisionedMs = results[1].settledMs;
  figures.bootBothToProvisionedMs = Date.now() - t0;
  figures.bootToHttpsMs = Date.now() - t0 + (await answers("/", 60_000));
});

afterAll(async () => {
  for (const b of Object.values(booted)) await powerOff(b);
  for (const h of Object.values(hosts)) removeHost(h, { data: true });
  for (const pid of servers) stopServer(pid);
  if (net) netDown(LAB);
  finishRun("camcops-two-server", figures, work);
});

test("both hosts: cloud-init finished, every provisioning step passed, no unit failed", () => {
  for (const name of NAMES) expect({ name, ...provisioning(collect(booted[name])) }).toEqual({ name, ...PROVISIONED_CLEANLY });
  // The app host waited for MariaDB on the database host before deploying (mariadb-wait).
  expect(inside(APP, "cat /var/log/studyhost-provision.log").stdout).toContain(`MariaDB on ${dbPrivate} admits the app user over TLS`);
});

test("camcops_server answers over https through nginx on the app host (the chain verified against Pebble's root)", () => {
  const page = get("/");
  expect(page.code).toBe("200");
  expect(page.body).toContain("<h1>CamCOPS: log in</h1>");
  expect(JSON.parse(get("/request").body)).toEqual({ scheme: "https", remote: net.internet.address });
});

test("camcops.conf's DB_URL names MariaDB on the database host's private address, with the TLS option; the venv has the real SQLAlchemy and PyMySQL", () => {
  const url = inside(APP, "grep '^DB_URL' /etc/camcops/camcops.conf").stdout;
  expect(url).toMatch(
    new RegExp(`^DB_URL = mysql\\+pymysql://camcops:[^@\\s]+@${dbPrivate.replace(/\./g, "\\.")}:3306/camcops\\?charset=utf8mb4&ssl_check_hostname=false\\n$`),
  );
  expect(inside(APP, "/srv/camcops/venv/bin/pip show SQLAlchemy PyMySQL").stdout).toMatch(
    /^Name: SQLAlchemy\nVersion: 1\.4\.\d+\n[^]*^Name: PyMySQL\nVersion: 1\.0\.\d+$/m,
  );
  expect(inside(APP, "cat /var/log/studyhost-provision.log").stdout).toMatch(
    /camcops_server stand-in: upgrade_db: database camcops on MariaDB 10\.11\.\S+ is at 2\.4\.22-standin-0001/,
  );
});

test("a write then a read through camcops_server reaches MariaDB on the database host; the app host runs no MariaDB server", () => {
  expect(get("/write?body=across%20the%20network")).toEqual({ code: "200", body: "written\n" });
  expect(JSON.parse(get("/read").body)).toEqual(["across the network"]);
  expect(dbSql("SELECT body FROM standin_notes;").stdout).toBe("across the network\n");
  expect(dbSql("SELECT @@datadir;").stdout).toBe("/var/lib/studyhost/mariadb/\n");
  expect(inside(APP, "ss -Hltn 'sport = :3306'").stdout).toBe("");
  expect(inside(APP, "systemctl is-active mariadb.service").stdout.trim()).not.toBe("active");
});

test("the app's connection is TLS: the server reports the app's own session encrypted, under the private-network account that REQUIREs SSL", () => {
  const before = sslAccepts();
  const tls = JSON.parse(get("/tls").body);
  expect(tls).toEqual({
    account: "camcops@10.116.0.0/255.255.240.0",
    ssl_version: expect.stringMatching(/^TLSv1\.[23]$/),
    ssl_cipher: expect.stringMatching(/\S/),
  });
  // A new connection (the stand-in opens one for every request) is a new TLS handshake on the server.
  expect(JSON.parse(get("/read").body)).toEqual(["across the network"]);
  expect(sslAccepts()).toBeGreaterThanOrEqual(before + 2);
  expect(dbSql("SHOW GRANTS FOR 'camcops'@'10.116.0.0/255.255.240.0';").stdout).toMatch(/REQUIRE SSL/);
  // Every account of the app user and the analyst: loopback, and the app user's REQUIRE SSL one.
  expect(
    dbSql("SELECT User, Host, IFNULL(JSON_VALUE(Priv, '$.ssl_type'), 0) FROM mysql.global_priv WHERE User LIKE 'camcops%' ORDER BY User, Host;").stdout,
  ).toBe(
    [
      "camcops\t10.116.0.0/255.255.240.0\t1",
      "camcops\t127.0.0.1\t0",
      "camcops\tlocalhost\t0",
      "camcops_analyst\t127.0.0.1\t0",
      "camcops_analyst\tlocalhost\t0",
      "",
    ].join("\n"),
  );
});

test("from the app host the app user gets in over TLS and is refused without it", () => {
  const withTls = inside(APP, `mariadb --defaults-extra-file=${CLIENT_CNF} --batch --skip-column-names -e "SHOW SESSION STATUS LIKE 'Ssl_version'"`);
  expect([withTls.status, withTls.stdout]).toEqual([0, expect.stringMatching(/^Ssl_version\tTLSv1\.[23]\n$/)]);
  for (const off of ["--skip-ssl", "--ssl=0"]) {
    const plain = inside(APP, `mariadb --defaults-extra-file=${CLIENT_CNF} ${off} --batch -e "SELECT 1"`);
    expect({ off, status: plain.status, stderr: plain.stderr }).toEqual({
      off,
      status: 1,
      stderr: expect.stringMatching(new RegExp(`Access denied for user 'camcops'@'${APP_PRIVATE.replace(/\./g, "\\.")}'`)),
    });
  }
});

test("MariaDB listens on the private address and loopback; 3306 answers the app host, not the internet", () => {
  const listening = inside(DB, "ss -Hltn 'sport = :3306'")
    .stdout.trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[3]);
  expect(listening.sort()).toEqual([`${dbPrivate}:3306`, "127.0.0.1:3306"].sort());
  const fromApp = inside(APP, `timeout 5 bash -c 'exec 3<>/dev/tcp/${dbPrivate}/3306 && head -c 64 <&3 | tr -c "[:print:]" .'`);
  expect([fromApp.status, fromApp.stdout]).toEqual([0, expect.stringContaining("MariaDB")]);
  const dbPublic = net.hosts[1].address;
  expect(tcpProbe(net.internet.netns, dbPublic, 3306)).toBe("timeout");
  expect(tcpProbe(net.internet.netns, dbPublic, 22, ADMIN)).toMatch(/^open SSH-2\.0-OpenSSH/);
  expect(tcpProbe(net.internet.netns, net.hosts[0].address, 3306)).toBe("timeout");
});

test("no PostgreSQL on either host (database.engine none)", () => {
  for (const name of NAMES) {
    const r = inside(
      name,
      "systemctl is-active postgresql.service; pgrep -x postgres; ss -Hltn 'sport = :5432'; ls /var/lib/studyhost/postgresql 2>&1 | head -1",
    );
    expect({ name, out: r.stdout }).toEqual({ name, out: expect.stringMatching(/^inactive\n(ls: cannot access[^\n]*\n)?$/) });
  }
});

test("on the database host: the backup dumps MariaDB; delete the row, restore: the row is back through the app", async () => {
  expect(inside(DB, "systemctl is-enabled studyhost-accessories-backup.timer").stdout.trim()).toBe("enabled");
  let t = Date.now();
  const backup = inside(DB, "systemctl start studyhost-accessories-backup.service");
  figures.databaseBackupMs = Date.now() - t;
  expect([backup.status, backup.stderr]).toEqual([0, ""]);
  expect(inside(DB, "ls /var/lib/studyhost/backups/mariadb").stdout).toMatch(/^camcops-\S+\.dump$/m);
  // Nothing of MariaDB's is backed up on the app host.
  expect(inside(APP, "ls /var/lib/studyhost/backups/mariadb 2>&1").stdout).toMatch(/No such file or directory/);

  expect(dbSql("DELETE FROM standin_notes;").status).toBe(0);
  expect(JSON.parse(get("/read").body)).toEqual([]);
  t = Date.now();
  const restore = inside(DB, "studyhost-restore-mariadb --yes");
  figures.databaseRestoreMs = Date.now() - t;
  expect([restore.status, restore.stdout]).toEqual([0, expect.stringMatching(/^restored camcops from \/var\/lib\/studyhost\/backups\/mariadb\/camcops-/)]);
  expect(JSON.parse(get("/read").body)).toEqual(["across the network"]);
  expect(dbSql("SELECT body FROM standin_notes;").stdout).toBe("across the network\n");
});

/** What identifies MariaDB's data on the volume: re-initialised, it changes. */
const datadirBirth = () => inside(DB, "stat -c '%i %W' /var/lib/studyhost/mariadb/mysql").stdout.trim();

function settledCleanly(name: string, state: string) {
  const r = collect(booted[name]);
  expect({ name, state, failed: r.failedUnits, journals: r.failedJournals }).toEqual({ name, state: "running", failed: [], journals: {} });
}

test("power off both hosts, boot both again at the same time: MariaDB's data not re-initialised, camcops_server serves again, the row there", async () => {
  const birth = datadirBirth();
  await Promise.all(NAMES.map((n) => powerOff(booted[n])));
  const t0 = Date.now();
  for (const name of NAMES) await bootHost(name);
  const results = await Promise.all(NAMES.map((name) => waitForBoot(booted[name])));
  figures.rebootBothSettledMs = Date.now() - t0;
  NAMES.forEach((name, i) => settledCleanly(name, results[i].systemState));
  figures.rebootBothToHttpsMs = Date.now() - t0 + (await answers("/", 120_000));
  expect(JSON.parse(get("/read").body)).toEqual(["across the network"]);
  expect(datadirBirth()).toBe(birth);
  expect(JSON.parse(get("/tls").body).ssl_version).toMatch(/^TLSv1\.[23]$/);
  figures.rebootBothAppRestarts = Number(inside(APP, "systemctl show -p NRestarts --value camcops.service").stdout.trim());
});

test("power off both, boot the app host alone, the database host half a minute later: camcops_server keeps retrying (not failed) and serves once MariaDB is back", async () => {
  await Promise.all(NAMES.map((n) => powerOff(booted[n])));
  const t0 = Date.now();
  await bootHost(APP);
  const app = await waitForBoot(booted[APP]);
  figures.rebootAppHostAloneSettledMs = Date.now() - t0;
  // Without its database the app cannot start (serve_gunicorn checks the schema, as CamCOPS does).
  // Half a minute is several of systemd's restarts, and past its default start limit (5 in 10 s).
  while (Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 1_000));
  expect(get("/").code).not.toBe("200");
  const waiting = inside(APP, "systemctl show -p ActiveState,SubState,Result,NRestarts camcops.service").stdout;
  expect(waiting).not.toMatch(/ActiveState=failed/);
  figures.appRestartsWhileDatabaseDown = Number(/NRestarts=(\d+)/.exec(waiting)?.[1]);
  expect(figures.appRestartsWhileDatabaseDown).toBeGreaterThanOrEqual(3);
  expect(app.systemState).toBe("running");

  const t1 = Date.now();
  await bootHost(DB);
  const db = await waitForBoot(booted[DB]);
  figures.rebootDatabaseHostSettledMs = Date.now() - t1;
  settledCleanly(DB, db.systemState);
  figures.databaseHostBootToHttpsMs = Date.now() - t1 + (await answers("/", 120_000));
  settledCleanly(APP, "running");
  expect(JSON.parse(get("/read").body)).toEqual(["across the network"]);
  expect(inside(APP, "systemctl is-active camcops.service").stdout.trim()).toBe("active");
});
