// The accessory databases (studyhost:accessories).
// MariaDB, for real: a scratch server from Debian's mariadb-server (mariadbd as the mysql user, started
// by root, on a loopback port and a scratch socket) is initialised with the flags the rendered datadir
// script uses and configured with the rendered settings; then the rendered users script runs (twice:
// idempotent), and this file proves over TCP with passwords that
//   - the database is utf8mb4 and keeps 4-byte text; the server listens as configured;
//   - the app user writes its database and reaches no other (another database, mysql.*, CREATE
//     DATABASE, GRANT), and the analyst reads and cannot write or create;
//   - passwords with quotes, backslashes and dollars arrive unchanged (lit() in the script);
//   - as on a database host (two-server; the certificate made and the listen line written by the rendered
//     datadir script, 127.0.0.2 standing for the app host): the app user is admitted from that address
//     only and only over TLS, the analyst not at all from there, and the accounts go when it is unset;
//     the app's URL (mariadbUrl), opened with SQLAlchemy and PyMySQL, connects over TLS;
//   - the rendered backup script writes a checked, pruned <db>-<stamp>.dump; a failing dump leaves
//     nothing; restore without --yes does nothing; dump, damage, restore gives identical rows and drops
//     tables made after the backup, and both users still work.
// MongoDB's image cannot be pulled here (no registry): its unit, run command, scripts and the private
// Docker network are checked statically (and the network script against a stand-in docker).
// Everything rendered passes cloud-init's schema, shellcheck, systemd-analyze verify and nft -c.
// Needs root and Debian's mariadb-server, mariadb-client, gzip, python3 (with python3-sqlalchemy and
// python3-pymysql), shellcheck, cloud-init, nftables.
import { spawn, spawnSync, SpawnSyncReturns } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseStudyConfig } from "../src/config";
import { DOCKER_NETWORK_SH, MARIADB, MARIADB_BACKUP_SH, MARIADB_DATADIR_SH, MARIADB_RESTORE_SH, MARIADB_TLS_CNF, MARIADB_USERS_SH, mariadbPart, mariadbUrl, MONGODB, OFFSITE_ENV, PRUNE_PY } from "../src/host";
import { planOf, studyConfig } from "./helpers";
import { freePort } from "./support/processes";
import { renderHosts, RenderedHost } from "./support/render";
import { verifyUnits } from "./support/verify";

jest.setTimeout(120_000);

const users = {
  database: "study",
  appUser: "study",
  appPassword: `it's a "quoted" pass\\word with $HOME`,
  analystUser: "study_analyst",
  analystPassword: `an\\alyst's "read-only" \\\\ pass`,
};

let scratch = "";
let data = "";
let socket = "";
let backups = "";
let envPath = "";
let prune = "";
let port = 0;
let server: ReturnType<typeof spawnSync> | undefined;
let started = false;

const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root", SHLVL: "1", LANG: "C.UTF-8" });
/**
 * The clients of the rendered scripts (mariadb, mariadb-dump, run as root as on the host) find the
 * scratch server through ~/.my.cnf, which they read after /etc/mysql's files: HOME is a scratch folder.
 */
const clientEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...baseEnv(), HOME: join(scratch, "home"), STUDYHOST_MARIADB_ENV: envPath, STUDYHOST_PRUNE: prune, ...extra });
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = clientEnv(), input?: string): SpawnSyncReturns<string> =>
  spawnSync(cmd, args, { encoding: "utf8", env, input, timeout: 60_000 });
function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const script = (name: string, text: string) => {
  const path = join(scratch, name);
  writeFileSync(path, text, { mode: 0o755 });
  return path;
};

/** SQL over TCP to 127.0.0.1 with a password, as the app's URL connects. */
function tcp(user: string, password: string, sql: string, db = users.database): SpawnSyncReturns<string> {
  return run("mariadb", ["--no-defaults", "--default-character-set=utf8mb4", "--batch", "--skip-column-names", "-h", "127.0.0.1", "-P", String(port), "-u", user, db], { ...baseEnv(), MYSQL_PWD: password }, sql);
}
const asApp = (sql: string, db?: string) => tcp(users.appUser, users.appPassword, sql, db);
const asAnalyst = (sql: string, db?: string) => tcp(users.analystUser, users.analystPassword, sql, db);
const asRoot = (sql: string) => must(run("mariadb", ["--no-defaults", "--default-character-set=utf8mb4", "--batch", "--skip-column-names", "-S", socket, "-u", "root"], baseEnv(), sql), `root: ${sql}`).trim();
const ok = (r: SpawnSyncReturns<string>) => must(r, "mariadb").trim();
function refused(r: SpawnSyncReturns<string>, error: RegExp): void {
  expect(r.stderr).toMatch(error);
  expect(r.status).not.toBe(0);
}

/**
 * A TCP relay that reaches the server from SOURCE (another loopback address, standing for another
 * host: the mariadb client cannot pick its source address). TLS passes through it untouched.
 */
const RELAY_PY = `import socket, sys, threading
source, target = sys.argv[1], int(sys.argv[2])
srv = socket.create_server(("127.0.0.1", 0))
print(srv.getsockname()[1], flush=True)
def pump(a, b):
    while data := a.recv(65536):
        b.sendall(data)
    b.shutdown(socket.SHUT_WR)
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", target), source_address=(source, 0))
    for a, b in ((c, u), (u, c)):
        threading.Thread(target=pump, args=(a, b), daemon=True).start()
`;
async function relayFrom(source: string): Promise<{ port: number; stop: () => void }> {
  const child = spawn("python3", ["-c", RELAY_PY, source, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  const relayPort = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", (code) => reject(new Error(`the relay exited (${code})`)));
  });
  return { port: relayPort, stop: () => child.kill() };
}

describe("MariaDB: the rendered set-up on a real server", () => {
beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("test/accessories.test.ts needs root (mariadbd as mysql, runuser): run it as CI does");
  if (existsSync(OFFSITE_ENV)) throw new Error(`${OFFSITE_ENV} exists on this machine: the backup script would upload test dumps`);
  scratch = mkdtempSync(join(tmpdir(), "studyhost-mariadb-"));
  chmodSync(scratch, 0o755);
  data = join(scratch, "data");
  // The server runs as mysql: its socket, pid file and log in a folder of its own.
  const runDir = join(scratch, "run");
  mkdirSync(runDir, { mode: 0o755 });
  chownSync(runDir, uid("mysql"), gid("mysql"));
  socket = join(runDir, "mysqld.sock");
  backups = join(scratch, "backups");
  port = await freePort();
  mkdirSync(data, { mode: 0o750 });
  chownSync(data, uid("mysql"), gid("mysql"));

  // The rendered datadir script's own initialisation line, pointed at the scratch folder.
  const init = MARIADB_DATADIR_SH.split("\n").find((l) => l.trim().startsWith("mariadb-install-db "));
  if (!init) throw new Error("the datadir script no longer runs mariadb-install-db");
  must(run("bash", ["-c", `set -euo pipefail\ndatadir=${data}\n${init.trim().replace(/"\$datadir\.new"/, '"$datadir"')}`], baseEnv()), "mariadb-install-db");

  // A database host's settings (loopback and TLS), the certificate and listen line made by the rendered
  // datadir script's own lines (127.0.0.2 for the private address), then only what a scratch server
  // must change (later lines win).
  const tls = join(scratch, "tls");
  const lines = (pattern: RegExp) => MARIADB_DATADIR_SH.split("\n").filter((l) => pattern.test(l)).map((l) => l.trim());
  const made = lines(/^\s*(install -d -o root -g mysql|openssl req|mv "\$tls|chown mysql:mysql "\$tls|chmod 06\d\d "\$tls)/);
  expect(made).toHaveLength(7);
  const listen = lines(/^\s*printf '\[mysqld\]\\nbind-address/)[0].replace(/> \S+$/, `> ${join(scratch, "listen.cnf")}`);
  must(run("bash", ["-c", `set -euo pipefail\ntls=${tls}\nprivate=127.0.0.2\n${made.join("\n")}\n${listen}`], baseEnv()), "certificate and listen line");
  const cnf = join(scratch, "my.cnf");
  writeFileSync(
    cnf,
    `${MARIADB_TLS_CNF.replaceAll(MARIADB.tls, tls)}\n${readFileSync(join(scratch, "listen.cnf"), "utf8")}\n[mysqld]\ndatadir = ${data}\nport = ${port}\nsocket = ${socket}\npid-file = ${join(scratch, "run/mysqld.pid")}\nlog-error = ${join(scratch, "run/error.log")}\n`,
  );
  chmodSync(cnf, 0o644);
  const child = spawnSync("bash", ["-c", `/usr/sbin/mariadbd --defaults-file=${cnf} --user=mysql > ${scratch}/stdout.log 2>&1 & echo $!`], { encoding: "utf8" });
  server = child;
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
  started = existsSync(socket);
  if (!started) throw new Error(`mariadbd did not start:\n${readLog()}`);

  mkdirSync(join(scratch, "home"));
  writeFileSync(join(scratch, "home/.my.cnf"), `[client]\nsocket = ${socket}\n`);
  // The rendered env file, its backup folder pointed at scratch.
  const rendered = mariadbPart({ users, keep: { daily: 7, weekly: 4, monthly: 6 } });
  const envFile = rendered.files!.find((f) => f.path === MARIADB.env)!.content;
  envPath = join(scratch, "mariadb.env");
  writeFileSync(envPath, envFile.replace(`BACKUP_DIR="${MARIADB.backups}"`, `BACKUP_DIR="${backups}"`), { mode: 0o600 });
  expect(readFileSync(envPath, "utf8")).toContain(`BACKUP_DIR="${backups}"`);
  prune = script("prune_backups.py", PRUNE_PY);
  const users1 = run("bash", [script("users.sh", MARIADB_USERS_SH)]);
  expect({ status: users1.status, stdout: users1.stdout, stderr: users1.stderr }).toEqual({ status: 0, stdout: "", stderr: "" });
  // Again: idempotent, with the same result.
  must(run("bash", [join(scratch, "users.sh")]), "users script, second run");
});

afterAll(() => {
  if (started) {
    const pid = Number(readFileSync(join(scratch, "run/mysqld.pid"), "utf8").trim());
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone already
    }
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
        spawnSync("sleep", ["0.1"]);
      } catch {
        break;
      }
    }
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  void server;
});

function uid(user: string): number {
  return Number(must(run("id", ["-u", user], baseEnv()), `id -u ${user}`).trim());
}
function gid(user: string): number {
  return Number(must(run("id", ["-g", user], baseEnv()), `id -g ${user}`).trim());
}
function readLog(): string {
  for (const f of ["run/error.log", "stdout.log"]) if (existsSync(join(scratch, f))) return readFileSync(join(scratch, f), "utf8").slice(-3000);
  return "(no log)";
}

  test("the database is utf8mb4, keeps 4-byte text, and no anonymous account or test database exists", () => {
    expect(ok(asApp("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()"))).toBe("utf8mb4\tutf8mb4_unicode_ci");
    ok(asApp("CREATE TABLE participants (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, note TEXT) ENGINE=InnoDB; INSERT INTO participants (name, note) VALUES ('first', 'a'), ('zweite 🧪', 'ü'), ('third', 'c');"));
    expect(ok(asApp("SELECT name FROM participants WHERE id = 2"))).toBe("zweite 🧪");
    expect(asRoot("SELECT COUNT(*) FROM mysql.global_priv WHERE User = ''")).toBe("0");
    expect(asRoot("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'test'")).toBe("0");
    // The database host's form: 127.0.0.1 and the private address, in one list (MariaDB 10.11).
    expect(asRoot("SELECT @@bind_address, @@character_set_server, @@skip_name_resolve, @@have_ssl")).toBe("127.0.0.1,127.0.0.2\tutf8mb4\t1\tYES");
  });

  test("the app user writes its database, and reaches no other", () => {
    expect(ok(asApp("UPDATE participants SET note = 'changed' WHERE name = 'first'; DELETE FROM participants WHERE name = 'third'; SELECT id, name, note FROM participants ORDER BY id;"))).toBe("1\tfirst\tchanged\n2\tzweite 🧪\tü");
    asRoot("CREATE DATABASE IF NOT EXISTS other; CREATE TABLE IF NOT EXISTS other.secrets (x INT); INSERT INTO other.secrets VALUES (42);");
    refused(asApp("SELECT * FROM other.secrets"), /SELECT command denied to user 'study'@'127\.0\.0\.1' for table `other`\.`secrets`/);
    refused(asApp("SELECT 1", "other"), /Access denied for user 'study'@'127\.0\.0\.1' to database 'other'/);
    refused(asApp("CREATE DATABASE another"), /Access denied for user 'study'@'127\.0\.0\.1' to database 'another'/);
    refused(asApp("SELECT User FROM mysql.user"), /SELECT command denied to user 'study'@'127\.0\.0\.1' for table `mysql`\.`user`/);
    refused(asApp("GRANT SELECT ON study.* TO 'study_analyst'@'127.0.0.1'"), /Access denied for user 'study'@'127\.0\.0\.1' to database 'study'/);
    refused(asApp("CREATE USER 'x'@'%' IDENTIFIED BY 'y'"), /Access denied; you need \(at least one of\) the CREATE USER privilege/);
  });

  test("the analyst reads, including tables made later, and cannot write, create or reach another database", () => {
    ok(asApp("CREATE TABLE later (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO later VALUES (1, 'x');"));
    expect(ok(asAnalyst("SELECT name FROM participants ORDER BY id"))).toBe("first\nzweite 🧪");
    expect(ok(asAnalyst("SELECT v FROM later"))).toBe("x");
    refused(asAnalyst("INSERT INTO participants (name) VALUES ('x')"), /INSERT command denied to user 'study_analyst'@'127\.0\.0\.1' for table `study`\.`participants`/);
    refused(asAnalyst("UPDATE participants SET note = 'x'"), /UPDATE command denied to user 'study_analyst'/);
    refused(asAnalyst("DELETE FROM participants"), /DELETE command denied to user 'study_analyst'/);
    refused(asAnalyst("DROP TABLE later"), /DROP command denied to user 'study_analyst'/);
    refused(asAnalyst("CREATE TABLE mine (x INT)"), /CREATE command denied to user 'study_analyst'/);
    refused(asAnalyst("SELECT 1", "other"), /Access denied for user 'study_analyst'@'127\.0\.0\.1' to database 'other'/);
    expect(asRoot("SHOW GRANTS FOR 'study_analyst'@'127.0.0.1'").split("\n").slice(1)).toEqual(["GRANT SELECT ON `study`.* TO `study_analyst`@`127.0.0.1`"]);
    expect(asRoot("SHOW GRANTS FOR 'study'@'localhost'").split("\n").slice(1)).toEqual(["GRANT ALL PRIVILEGES ON `study`.* TO `study`@`localhost`"]);
  });

  test("a wrong password is refused; the socket accounts work as the TCP ones", () => {
    refused(tcp(users.appUser, "wrong", "SELECT 1"), /Access denied for user 'study'@'127\.0\.0\.1' \(using password: YES\)/);
    const viaSocket = run("mariadb", ["--no-defaults", "--batch", "--skip-column-names", "-S", socket, "-u", users.analystUser, users.database], { ...baseEnv(), MYSQL_PWD: users.analystPassword }, "SELECT CURRENT_USER()");
    expect(ok(viaSocket)).toBe("study_analyst@localhost");
  });

  test("as on a database host: the app user from the app host's address only, over TLS only; the analyst local only", async () => {
    const remote = mariadbPart({ users, keep: { daily: 7, weekly: 4, monthly: 6 }, clientCidr: "127.0.0.2/32" }).files!.find((f) => f.path === MARIADB.env)!.content;
    expect(remote).toContain('CLIENT_HOST="127.0.0.2/255.255.255.255"');
    const remoteEnv = join(scratch, "remote.env");
    writeFileSync(remoteEnv, remote, { mode: 0o600 });
    for (let i = 0; i < 2; i++) must(run("bash", [join(scratch, "users.sh")], clientEnv({ STUDYHOST_MARIADB_ENV: remoteEnv })), "users script with CLIENT_HOST");
    // Connecting from 127.0.0.2 (the app host) or 127.0.0.3 (any other), with or without TLS.
    const relays = { "127.0.0.2": await relayFrom("127.0.0.2"), "127.0.0.3": await relayFrom("127.0.0.3") };
    const from = (source: keyof typeof relays, user: string, password: string, tlsOn: boolean, sql: string) =>
      run("mariadb", ["--no-defaults", "--batch", "--skip-column-names", "-h", "127.0.0.1", "-P", String(relays[source].port), tlsOn ? "--ssl" : "--skip-ssl", "-u", user, users.database], { ...baseEnv(), MYSQL_PWD: password }, sql);
    try {
    expect(ok(from("127.0.0.2", users.appUser, users.appPassword, true, "SELECT CURRENT_USER(); SELECT VARIABLE_VALUE LIKE 'TLSv1.%' FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'; CREATE TABLE from_app (x INT); DROP TABLE from_app; SELECT DATABASE();"))).toBe("study@127.0.0.2/255.255.255.255\n1\nstudy");
    refused(from("127.0.0.2", users.appUser, users.appPassword, false, "SELECT 1"), /Access denied for user 'study'@'127\.0\.0\.2'/);
    // The app's URL to a database host, opened as CamCOPS opens it (SQLAlchemy's create_engine with
    // PyMySQL: Debian's python3-sqlalchemy and python3-pymysql): ssl_check_hostname=false alone makes
    // the dialect pass PyMySQL an ssl argument, and PyMySQL then encrypts without verifying the
    // self-signed certificate. The same URL without it connects in the clear and is refused.
    const url = mariadbUrl(users, "127.0.0.1").replace(":3306/", `:${relays["127.0.0.2"].port}/`);
    expect(url).toMatch(/\?charset=utf8mb4&ssl_check_hostname=false$/);
    const viaSqlalchemy = (u: string) =>
      run("/usr/bin/python3", ["-c", `import sys, sqlalchemy\nwith sqlalchemy.create_engine(sys.argv[1]).connect() as c:\n    print(c.exec_driver_sql("SELECT CURRENT_USER(), VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'").one())`, u]);
    expect(ok(viaSqlalchemy(url))).toMatch(/^\('study@127\.0\.0\.2\/255\.255\.255\.255', 'TLSv1\.[23]'\)$/);
    refused(viaSqlalchemy(url.replace("&ssl_check_hostname=false", "")), /Access denied for user 'study'@'127\.0\.0\.2'/);
    refused(from("127.0.0.3", users.appUser, users.appPassword, true, "SELECT 1"), /Host '127\.0\.0\.3' is not allowed to connect|Access denied for user 'study'@'127\.0\.0\.3'/);
    refused(from("127.0.0.2", users.analystUser, users.analystPassword, true, "SELECT 1"), /Access denied for user 'study_analyst'@'127\.0\.0\.2'/);
    expect(asRoot(`SHOW GRANTS FOR 'study'@'127.0.0.2/255.255.255.255'`).split("\n").slice(1)).toEqual(["GRANT ALL PRIVILEGES ON `study`.* TO `study`@`127.0.0.2/255.255.255.255`"]);
    // Without CLIENT_HOST (the app host's set-up) the account is dropped again.
    must(run("bash", [join(scratch, "users.sh")]), "users script without CLIENT_HOST");
    expect(asRoot("SELECT COUNT(*) FROM mysql.global_priv WHERE Host NOT IN ('localhost', '127.0.0.1') AND User IN ('study', 'study_analyst')")).toBe("0");
    refused(from("127.0.0.2", users.appUser, users.appPassword, true, "SELECT 1"), /is not allowed to connect|Access denied/);
    } finally {
      for (const r of Object.values(relays)) r.stop();
    }
  });

  test("backup, damage, restore: identical rows; tables made after the backup are gone; both users still work", () => {
    const before = ok(asApp("SELECT id, name, note FROM participants ORDER BY id; SELECT * FROM later;"));
    const b = run("bash", [script("backup.sh", MARIADB_BACKUP_SH)]);
    expect([b.status, b.stderr]).toEqual([0, ""]);
    const dumps = readdirSync(backups).filter((f) => f.endsWith(".dump"));
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toMatch(/^study-\d{8}T\d{6}Z\.dump$/);
    expect(statSync(join(backups, dumps[0])).mode & 0o777).toBe(0o600);
    expect(readdirSync(backups).filter((f) => f.startsWith(".partial"))).toEqual([]);

    ok(asApp("DELETE FROM participants; DROP TABLE later; CREATE TABLE made_after (x INT);"));
    // Without --yes, an answer other than yes restores nothing.
    const no = run("bash", [script("restore.sh", MARIADB_RESTORE_SH)], clientEnv(), "no\n");
    expect(no.status).toBe(1);
    expect(no.stdout).toContain("nothing restored");
    expect(ok(asApp("SELECT COUNT(*) FROM participants"))).toBe("0");

    const r = run("bash", [join(scratch, "restore.sh"), "--yes"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain(`restored study from ${join(backups, dumps[0])}`);
    expect(ok(asApp("SELECT id, name, note FROM participants ORDER BY id; SELECT * FROM later;"))).toBe(before);
    expect(ok(asAnalyst("SELECT COUNT(*) FROM participants"))).toBe("2");
    refused(asApp("SELECT * FROM made_after"), /Table 'study\.made_after' doesn't exist/);
    // What was there before the restore is kept beside the backups, outside the pruning.
    expect(readdirSync(backups).filter((f) => /^before-restore-\d{8}T\d{6}Z\.sql\.gz$/.test(f))).toHaveLength(1);
    refused(asAnalyst("INSERT INTO participants (name) VALUES ('x')"), /INSERT command denied/);
  });

  test("old backups are pruned by the shared retention; a failing dump is loud and leaves nothing", () => {
    // Ten old daily dumps of January 2024: with today's, the 7 daily keep today and the 6 newest of them
    // (which also hold their weeks' and month's newest); the 4 oldest go.
    for (let d = 1; d <= 10; d++) writeFileSync(join(backups, `study-202401${String(d).padStart(2, "0")}T031500Z.dump`), "old");
    const b = run("bash", [join(scratch, "backup.sh")]);
    expect(b.status).toBe(0);
    expect(b.stdout).toContain("pruning study-20240101T031500Z.dump");
    expect(b.stdout).toContain("pruning study-20240104T031500Z.dump");
    expect(readdirSync(backups).filter((f) => f.startsWith("study-2024")).sort()).toEqual([5, 6, 7, 8, 9, 10].map((d) => `study-202401${String(d).padStart(2, "0")}T031500Z.dump`));

    const bad = join(scratch, "bad.env");
    writeFileSync(bad, readFileSync(envPath, "utf8").replace('DATABASE="study"', 'DATABASE="missing"'), { mode: 0o600 });
    const count = readdirSync(backups).length;
    const f = run("bash", [join(scratch, "backup.sh")], clientEnv({ STUDYHOST_MARIADB_ENV: bad }));
    expect(f.status).not.toBe(0);
    expect(f.stderr).toMatch(/Unknown database 'missing'/);
    expect(readdirSync(backups).length).toBe(count);
  });
});

// --- Everything rendered, checked statically. ---

const container = { kind: "container", name: "emission", image: "ghcr.io/example/emission:3.1", port: 8080, network: "private" };
const CONFIGS: Record<string, Record<string, unknown>> = {
  "small-postgres-python-both": studyConfig("digitalocean", "small", { accessories: { mariadb: {}, mongodb: { image: "mongo:7.0@sha256:" + "a".repeat(64), database: "Stage_database".toLowerCase() } } }),
  "small-sqlite-mariadb": studyConfig("aws", "small", { database: { engine: "sqlite" }, accessories: { mariadb: { database: "camcops" } } }),
  "large-container-private-mongodb": studyConfig("digitalocean", "large", { app: container, accessories: { mongodb: {} }, jobs: [{ name: "intake", schedule: "@daily", command: "python bin/intake.py" }] }),
  "two-server-both": studyConfig("aws", "two-server", { accessories: { mariadb: {}, mongodb: {} } }),
};

let hosts: RenderedHost[] = [];
const appHost = (label: string) => hosts.find((h) => h.label === `${label}/study-app`)!;
const file = (h: RenderedHost, path: string) => readFileSync(join(h.root, path), "utf8");
const walk = (dir: string, prefix = ""): string[] =>
  readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name), `${prefix}/${name}`) : [`${prefix}/${name}`]));
const runAll = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
};

describe("rendered hosts with accessories", () => {
  beforeAll(async () => {
    hosts = await renderHosts(CONFIGS);
  }, 60_000);
  afterAll(() => {
    for (const h of hosts) rmSync(dirname(dirname(h.dir)), { recursive: true, force: true });
  });

  test("cloud-init schema, shellcheck and systemd-analyze verify pass on every host", () => {
    for (const h of hosts) {
      expect([h.label, runAll("cloud-init", ["schema", "--config-file", join(h.dir, "user-data")])]).toEqual([h.label, { status: 0, output: `Valid cloud-config: ${join(h.dir, "user-data")}` }]);
      for (const rel of walk(h.root)) {
        if (/^#!\/bin\/(ba)?sh/.test(file(h, rel).split("\n")[0])) expect([h.label, rel, runAll("shellcheck", [join(h.root, rel)])]).toEqual([h.label, rel, { status: 0, output: "" }]);
      }
      for (const { unit, output } of verifyUnits(h)) expect([h.label, unit, output]).toEqual([h.label, unit, ""]);
    }
    for (const label of Object.keys(CONFIGS)) {
      // On two-server MariaDB's scripts are on the database host.
      const mariadbHost = label.startsWith("two-server") ? hosts.find((h) => h.label === `${label}/study-db`)! : appHost(label);
      const scripts = walk(appHost(label).root).filter((f) => f.startsWith("/usr/local/sbin/"));
      if (label.includes("mariadb") || label.includes("both")) expect(walk(mariadbHost.root)).toEqual(expect.arrayContaining([MARIADB.setup, MARIADB.users, MARIADB.backup, MARIADB.restore]));
      if (label.includes("mongodb") || label.includes("both")) expect(scripts).toEqual(expect.arrayContaining([MONGODB.setup, MONGODB.backup, MONGODB.restore, "/usr/local/sbin/studyhost-docker-network"]));
    }
  });

  test("the host firewall opens no new port: only a forward rule keeps containers off the metadata service", async () => {
    for (const label of Object.keys(CONFIGS)) {
      const h = appHost(label);
      const nft = file(h, "/etc/nftables.conf");
      expect([label, runAll("nft", ["-c", "-f", join(h.root, "etc/nftables.conf")])]).toEqual([label, { status: 0, output: "" }]);
      expect(nft).not.toMatch(/3306|27017/);
      expect(nft).not.toContain("mariadb_clients");
      const usesNetwork = label.includes("mongodb") || label.includes("both");
      expect(nft.includes('iifname "studyhost0" ip daddr 169.254.169.254 reject')).toBe(usesNetwork);
    }
    // The input chain is the same as without accessories.
    const without = await renderHosts({ plain: studyConfig("digitalocean", "small") });
    const chain = (text: string) => text.slice(text.indexOf("chain input"), text.indexOf("chain output"));
    expect(chain(file(appHost("small-postgres-python-both"), "/etc/nftables.conf"))).toBe(chain(readFileSync(join(without[0].root, "etc/nftables.conf"), "utf8")));
    rmSync(dirname(dirname(without[0].dir)), { recursive: true, force: true });
  });

  test("MongoDB runs on the private network with no published port, its data on the volume", () => {
    const unit = file(appHost("small-postgres-python-both"), `/etc/systemd/system/${MONGODB.unit}`);
    const start = unit.split("\n").find((l) => l.startsWith("ExecStart="))!;
    expect(start).toContain("--network studyhost --ip 172.30.232.2 --network-alias mongodb");
    expect(start).toContain("-v /var/lib/studyhost/mongodb:/data/db");
    expect(start).toContain(`mongo:7.0@sha256:${"a".repeat(64)} --wiredTigerCacheSizeGB 0.25`);
    expect(start).not.toMatch(/--publish|\s-p\s|-P\b/);
    expect(unit).toMatch(/^Requires=docker\.service studyhost-docker-network\.service$/m);
    const env = file(appHost("small-postgres-python-both"), "/etc/studyhost/mongodb/mongodb.env");
    expect(env).toMatch(/^MONGO_INITDB_ROOT_USERNAME=studyhost_root$/m);
    expect(env).toMatch(/^STUDYHOST_MONGO_DATABASE=stage_database$/m);
    // The tools read the root password from a root-only file: never on a command line.
    const backup = file(appHost("small-postgres-python-both"), MONGODB.backup);
    expect(backup).toContain("mongodump --config=/etc/studyhost-mongodb/tools.yaml --username=studyhost_root --authenticationDatabase=admin --db=\"$DATABASE\" --archive --gzip");
    expect(backup).not.toMatch(/--password/);
    expect(statSync(join(appHost("small-postgres-python-both").root, "etc/studyhost/mongodb/tools.yaml")).mode & 0o777).toBe(0o600);
  });

  test("a private-network container app joins the network, publishes its port on 127.0.0.1 only, and gets MONGO_URL by name", () => {
    const h = appHost("large-container-private-mongodb");
    const unit = file(h, "/etc/systemd/system/emission.service");
    expect(unit).toContain("--network studyhost");
    expect(unit).toContain("--publish 127.0.0.1:8080:8080");
    expect(unit).not.toContain("--network host");
    expect(file(h, "/etc/emission/docker.env")).toMatch(/^MONGO_URL=mongodb:\/\/emission:[^@\s]+@mongodb:27017\/emission\?authSource=emission$/m);
    // Its scheduled jobs join the network too, but publish nothing (the app holds the port).
    const job = file(h, "/usr/local/lib/studyhost/jobs/intake.sh");
    expect(job).toContain("--network studyhost");
    expect(job).not.toContain("--publish");
  });

  test("the app's env has MARIADB_URL and MONGO_URL; the manifest lists the accessories", () => {
    const h = appHost("small-postgres-python-both");
    const env = file(h, "/etc/study/env");
    expect(env).toMatch(/^MARIADB_URL="mysql\+pymysql:\/\/study:[^@"]+@127\.0\.0\.1:3306\/study\?charset=utf8mb4"$/m);
    expect(env).toMatch(/^MONGO_URL="mongodb:\/\/stage_database:[^@"]+@172\.30\.232\.2:27017\/stage_database\?authSource=stage_database"$/m);
    expect(env).toMatch(/^DATABASE_URL="postgresql:/m);
    const manifest = JSON.parse(file(h, "/etc/studyhost/manifest.rendered.json"));
    expect(manifest.accessories.mariadb).toMatchObject({ database: "study", analystUser: "study_analyst", listen: "127.0.0.1:3306", data: "/var/lib/studyhost/mariadb" });
    expect(manifest.accessories.mongodb).toMatchObject({ database: "stage_database", network: "studyhost", published: false, data: "/var/lib/studyhost/mongodb" });
  });

  test("backups: the shared timer runs the accessories' backups; the two-server hosts each back up what they hold", () => {
    const shared = file(appHost("small-sqlite-mariadb"), "/etc/systemd/system/studyhost-backup.service");
    expect(shared).toContain(`ExecStart=${MARIADB.backup}\n`);
    expect(file(appHost("small-sqlite-mariadb"), MARIADB.env)).toContain('BACKUP_DIR="/var/lib/studyhost/backups/mariadb"');
    const own = appHost("two-server-both");
    expect(existsSync(join(own.root, "etc/systemd/system/studyhost-backup.service"))).toBe(false);
    const service = file(own, "/etc/systemd/system/studyhost-accessories-backup.service");
    expect(service).toMatch(new RegExp(`^ExecStart=${MONGODB.backup}\nNice=`, "m"));
    expect(service).not.toContain(MARIADB.backup);
    expect(existsSync(join(own.root, "usr/local/lib/studyhost/prune_backups.py"))).toBe(true);
    // MariaDB's backup runs where its data is: on the database host, after PostgreSQL's, on its timer.
    const db = hosts.find((h) => h.label === "two-server-both/study-db")!;
    expect(file(db, "/etc/systemd/system/studyhost-backup.service")).toMatch(new RegExp(`^ExecStart=/usr/local/sbin/studyhost-backup\nExecStart=${MARIADB.backup}\n`, "m"));
    expect(file(db, MARIADB.env)).toContain('BACKUP_DIR="/var/lib/studyhost/backups/mariadb"');
    expect(file(db, MARIADB.env)).toContain('CLIENT_HOST="10.42.1.0/255.255.255.0"');
  });

  test("two-server: MariaDB on the database host beside PostgreSQL, 3306 and 5432 from the private network only; the app host its client", () => {
    const db = hosts.find((h) => h.label === "two-server-both/study-db")!;
    const nft = file(db, "/etc/nftables.conf");
    expect(runAll("nft", ["-c", "-f", join(db.root, "etc/nftables.conf")])).toEqual({ status: 0, output: "" });
    expect(nft).toContain("ip saddr @postgres_clients_v4 tcp dport 5432 accept");
    expect(nft).toContain("ip saddr @mariadb_clients_v4 tcp dport 3306 accept");
    expect(nft).toMatch(/set mariadb_clients_v4 \{\n\s+type ipv4_addr\n\s+flags interval\n\s+elements = \{ 10\.42\.1\.0\/24 \}/);
    // PostgreSQL's memory is halved beside MariaDB (2 GB host: 1 GB, shared_buffers a quarter of it).
    expect(file(db, "/etc/studyhost/postgresql/studyhost.conf")).toMatch(/^shared_buffers = 256MB$/m);
    const app = appHost("two-server-both");
    expect(file(app, "/etc/study/env")).toMatch(/^MARIADB_URL="mysql\+pymysql:\/\/study:[^@"]+@10\.42\.1\.\d+:3306\/study\?charset=utf8mb4&ssl_check_hostname=false"$/m);
    expect(file(app, "/etc/study/env")).toMatch(/^DATABASE_URL="postgresql:\/\/.*\?sslmode=require"$/m);
    const provision = file(app, "/usr/local/sbin/studyhost-provision");
    const order = /^for current in ([a-z0-9 -]+); do$/m.exec(provision)![1].split(" ");
    expect(order.indexOf("database-wait")).toBeLessThan(order.indexOf("mariadb-wait"));
    expect(order.indexOf("mariadb-wait")).toBeLessThan(order.indexOf("app"));
    expect(order).not.toContain("mariadb");
  });

  test("at boot the app starts after the accessory databases whose URLs it gets (CamCOPS refuses to start without its database)", () => {
    const after = (label: string, unit: string) => /^After=(.*)$/m.exec(file(appHost(label), `/etc/systemd/system/${unit}`))![1].split(" ");
    expect(after("small-sqlite-mariadb", "study.service")).toEqual(["network-online.target", "mariadb.service"]);
    expect(after("small-postgres-python-both", "study.service")).toEqual(["network-online.target", "postgresql.service", "mariadb.service", MONGODB.unit]);
    // On two-server MariaDB is on the database host: no mariadb.service here to order after (the app
    // retries until it answers: test/e2e/camcops-two-server.e2e.ts boots the app host before it).
    expect(after("two-server-both", "study.service")).toEqual(["network-online.target", MONGODB.unit]);
    expect(after("large-container-private-mongodb", "emission.service")).toEqual(["docker.service", "network-online.target", "studyhost-docker-network.service", MONGODB.unit]);
  });

  test("the provisioning order: accessories after the firewall and backups, before the app", () => {
    const provision = file(appHost("two-server-both"), "/usr/local/sbin/studyhost-provision");
    const order = /^for current in ([a-z0-9 -]+); do$/m.exec(provision)![1].split(" ");
    expect(order.indexOf("docker-network")).toBeLessThan(order.indexOf("mongodb"));
    expect(order.indexOf("mongodb")).toBeLessThan(order.indexOf("app"));
    expect(order.indexOf("accessories-backups")).toBeGreaterThan(0);
  });
});

describe("the private Docker network script, against a stand-in docker", () => {
  test("creates the network once with its fixed subnet and bridge name; refuses one with another subnet", () => {
    const dir = mkdtempSync(join(tmpdir(), "studyhost-docker-net-"));
    const log = join(dir, "calls");
    // A docker that remembers the network it created (its subnet in a file).
    writeFileSync(join(dir, "docker"), `#!/bin/bash\necho "$*" >> ${log}\nif [ "$1 $2" = "network inspect" ]; then [ -f ${dir}/subnet ] && cat ${dir}/subnet && exit 0; exit 1; fi\nif [ "$1 $2" = "network create" ]; then echo 172.30.232.0/24 > ${dir}/subnet; fi\n`, { mode: 0o755 });
    writeFileSync(join(dir, "net.sh"), DOCKER_NETWORK_SH, { mode: 0o755 });
    const env = { ...baseEnv(), PATH: `${dir}:${process.env.PATH}` };
    expect(run("bash", [join(dir, "net.sh")], env).status).toBe(0);
    expect(run("bash", [join(dir, "net.sh")], env).status).toBe(0);
    const calls = readFileSync(log, "utf8").trim().split("\n");
    expect(calls.filter((c) => c.startsWith("network create"))).toEqual([
      "network create --driver bridge --subnet 172.30.232.0/24 --gateway 172.30.232.1 --opt com.docker.network.bridge.name=studyhost0 studyhost",
    ]);
    writeFileSync(join(dir, "subnet"), "10.0.0.0/24\n");
    const clash = run("bash", [join(dir, "net.sh")], env);
    expect(clash.status).toBe(1);
    expect(clash.stderr).toContain("a Docker network studyhost exists with subnet 10.0.0.0/24");
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("configuration", () => {
  const parse = (overrides: Record<string, unknown>) => () => parseStudyConfig(studyConfig("digitalocean", "small", overrides));
  const message = (overrides: Record<string, unknown>) => {
    try {
      parse(overrides)();
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  };

  test("defaults: mongo:7.0 and the app's name; no accessories unless configured", () => {
    expect(parseStudyConfig(studyConfig("digitalocean", "small")).accessories).toEqual({});
    expect(parseStudyConfig(studyConfig("digitalocean", "small", { accessories: { mongodb: {} } })).accessories.mongodb).toEqual({ image: "mongo:7.0" });
  });

  test("mistakes are one line naming the key", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ accessories: { mysql: {} } }, "studyhost:accessories.mysql: unknown key; valid keys here are mariadb, mongodb"],
      [{ accessories: { mariadb: { database: "Study-DB" } } }, 'studyhost:accessories.mariadb.database: got "Study-DB"; expected a lower-case name of letters, digits and _ (at most 31), starting with a letter'],
      [{ accessories: { mongodb: { image: "mongo 7" } } }, 'studyhost:accessories.mongodb.image: got "mongo 7"; expected an image reference such as mongo:7.0 or mongo@sha256:...'],
      [{ accessories: { mariadb: { port: 3307 } } }, "studyhost:accessories.mariadb.port: unknown key; valid keys here are database"],
      [
        { app: { ...container }, accessories: { mariadb: {} } },
        'studyhost:app.network: got "private"; MariaDB (accessories.mariadb) listens on the host\'s 127.0.0.1 only, which a container on the private network cannot reach; use network: host',
      ],
      [{ app: { ...container, network: "bridge" } }, 'studyhost:app.network: got "bridge"; expected host or private'],
      [{ database: { engine: "none" } }, 'studyhost:database.engine: got "none"; none leaves the app without a database: configure accessories.mariadb or accessories.mongodb, or use postgres'],
      [{ tier: "two-server", database: { engine: "none" }, accessories: { mongodb: {} } }, 'studyhost:database.engine: got "none"; none with mongodb only leaves the two-server tier\'s database host with nothing to run: use small or large, or postgres'],
      [
        { database: { engine: "none" }, accessories: { mariadb: {} }, sites: [{ domain: "other.example.org", app: { ...container, name: "other", port: 9000, network: "host" }, database: true }] },
        "studyhost:sites.0.database: got true; a site's database lives on the study's PostgreSQL or SQLite, and studyhost:database.engine is none: set it to false, or use postgres",
      ],
      [{ database: { engine: "mysql" } }, 'studyhost:database.engine: got "mysql"; expected postgres, sqlite or none'],
    ];
    for (const [overrides, expected] of cases) {
      const m = message(overrides);
      expect(m).toBe(expected);
      expect(m).not.toContain("\n");
    }
  });

  test("valid: engine none with an accessory on every tier; a private-network container with MariaDB on two-server (reached over the private network)", () => {
    for (const tier of ["small", "large", "two-server"]) expect(message({ tier, database: { engine: "none" }, accessories: { mariadb: {} } })).toBe("no error");
    expect(message({ tier: "two-server", app: { ...container }, accessories: { mariadb: {} } })).toBe("no error");
    const parsed = parseStudyConfig(studyConfig("digitalocean", "small", { database: { engine: "none" }, accessories: { mongodb: {} }, staging: { domain: "test.example.org" } }));
    expect(parsed.database.engine).toBe("none");
  });

  test("passwords are generated Pulumi secrets, only for configured accessories", async () => {
    const plan = await planOf(studyConfig("digitalocean", "small", { accessories: { mariadb: {}, mongodb: {} } }), "acc");
    const names = plan.resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword").map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["study-app-mariadb-app-password", "study-app-mariadb-analyst-password", "study-app-mongodb-root-password", "study-app-mongodb-app-password"]));
    const plain = await planOf(studyConfig("digitalocean", "small"), "plain");
    expect(plain.resources.map((r) => r.name).filter((n) => /mariadb|mongodb/.test(n))).toEqual([]);
  });
});
