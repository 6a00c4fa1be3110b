// MariaDB for real (studyhost:accessories.mariadb): a scratch server from Debian's mariadb-server
// (mariadbd as the mysql user, started by root, on a loopback port and a scratch socket) is initialised
// with the flags the rendered datadir script uses and configured with the rendered settings; then the
// rendered users script runs (twice: idempotent), and this file proves over TCP with passwords that
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
// Needs root and Debian's mariadb-server, mariadb-client, gzip, python3 (with python3-sqlalchemy and
// python3-pymysql). The rendered hosts with accessories are checked in test/accessories.test.ts and
// test/host/accessories.test.ts.
import { spawn, spawnSync, SpawnSyncReturns } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BACKUP_LIB_BASH,
  MARIADB,
  MARIADB_BACKUP_SH,
  MARIADB_DATADIR_SH,
  MARIADB_RESTORE_SH,
  MARIADB_TLS_CNF,
  MARIADB_USERS_SH,
  mariadbPart,
  mariadbUrl,
  OFFSITE_ENV,
  PRUNE_PY,
} from "../../src/host";
import { freePort } from "../support/processes";

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
const clientEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...baseEnv(),
  HOME: join(scratch, "home"),
  STUDYHOST_MARIADB_ENV: envPath,
  STUDYHOST_PRUNE: prune,
  STUDYHOST_BACKUP_LIB: join(scratch, "backup-lib.bash"),
  ...extra,
});
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
  return run(
    "mariadb",
    ["--no-defaults", "--default-character-set=utf8mb4", "--batch", "--skip-column-names", "-h", "127.0.0.1", "-P", String(port), "-u", user, db],
    { ...baseEnv(), MYSQL_PWD: password },
    sql,
  );
}
const asApp = (sql: string, db?: string) => tcp(users.appUser, users.appPassword, sql, db);
const asAnalyst = (sql: string, db?: string) => tcp(users.analystUser, users.analystPassword, sql, db);
const asRoot = (sql: string) =>
  must(
    run("mariadb", ["--no-defaults", "--default-character-set=utf8mb4", "--batch", "--skip-column-names", "-S", socket, "-u", "root"], baseEnv(), sql),
    `root: ${sql}`,
  ).trim();
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
    if (process.getuid?.() !== 0) throw new Error("test/host/mariadb-server.test.ts needs root (mariadbd as mysql, runuser): run it as CI does");
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
    const lines = (pattern: RegExp) =>
      MARIADB_DATADIR_SH.split("\n")
        .filter((l) => pattern.test(l))
        .map((l) => l.trim());
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
    const child = spawnSync("bash", ["-c", `/usr/sbin/mariadbd --defaults-file=${cnf} --user=mysql > ${scratch}/stdout.log 2>&1 & echo $!`], {
      encoding: "utf8",
    });
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
    writeFileSync(join(scratch, "backup-lib.bash"), BACKUP_LIB_BASH);
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
    expect(ok(asApp("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()"))).toBe(
      "utf8mb4\tutf8mb4_unicode_ci",
    );
    ok(
      asApp(
        "CREATE TABLE participants (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, note TEXT) ENGINE=InnoDB; INSERT INTO participants (name, note) VALUES ('first', 'a'), ('zweite 🧪', 'ü'), ('third', 'c');",
      ),
    );
    expect(ok(asApp("SELECT name FROM participants WHERE id = 2"))).toBe("zweite 🧪");
    expect(asRoot("SELECT COUNT(*) FROM mysql.global_priv WHERE User = ''")).toBe("0");
    expect(asRoot("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'test'")).toBe("0");
    // The database host's form: 127.0.0.1 and the private address, in one list (MariaDB 10.11).
    expect(asRoot("SELECT @@bind_address, @@character_set_server, @@skip_name_resolve, @@have_ssl")).toBe("127.0.0.1,127.0.0.2\tutf8mb4\t1\tYES");
  });

  test("the app user writes its database, and reaches no other", () => {
    expect(
      ok(
        asApp(
          "UPDATE participants SET note = 'changed' WHERE name = 'first'; DELETE FROM participants WHERE name = 'third'; SELECT id, name, note FROM participants ORDER BY id;",
        ),
      ),
    ).toBe("1\tfirst\tchanged\n2\tzweite 🧪\tü");
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
    refused(
      asAnalyst("INSERT INTO participants (name) VALUES ('x')"),
      /INSERT command denied to user 'study_analyst'@'127\.0\.0\.1' for table `study`\.`participants`/,
    );
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
    const viaSocket = run(
      "mariadb",
      ["--no-defaults", "--batch", "--skip-column-names", "-S", socket, "-u", users.analystUser, users.database],
      { ...baseEnv(), MYSQL_PWD: users.analystPassword },
      "SELECT CURRENT_USER()",
    );
    expect(ok(viaSocket)).toBe("study_analyst@localhost");
  });

  test("as on a database host: the app user from the app host's address only, over TLS only; the analyst local only", async () => {
    const remote = mariadbPart({ users, keep: { daily: 7, weekly: 4, monthly: 6 }, clientCidr: "127.0.0.2/32" }).files!.find(
      (f) => f.path === MARIADB.env,
    )!.content;
    expect(remote).toContain('CLIENT_HOST="127.0.0.2/255.255.255.255"');
    const remoteEnv = join(scratch, "remote.env");
    writeFileSync(remoteEnv, remote, { mode: 0o600 });
    for (let i = 0; i < 2; i++)
      must(run("bash", [join(scratch, "users.sh")], clientEnv({ STUDYHOST_MARIADB_ENV: remoteEnv })), "users script with CLIENT_HOST");
    // Connecting from 127.0.0.2 (the app host) or 127.0.0.3 (any other), with or without TLS.
    const relays = { "127.0.0.2": await relayFrom("127.0.0.2"), "127.0.0.3": await relayFrom("127.0.0.3") };
    const from = (source: keyof typeof relays, user: string, password: string, tlsOn: boolean, sql: string) =>
      run(
        "mariadb",
        [
          "--no-defaults",
          "--batch",
          "--skip-column-names",
          "-h",
          "127.0.0.1",
          "-P",
          String(relays[source].port),
          tlsOn ? "--ssl" : "--skip-ssl",
          "-u",
          user,
          users.database,
        ],
        { ...baseEnv(), MYSQL_PWD: password },
        sql,
      );
    try {
      expect(
        ok(
          from(
            "127.0.0.2",
            users.appUser,
            users.appPassword,
            true,
            "SELECT CURRENT_USER(); SELECT VARIABLE_VALUE LIKE 'TLSv1.%' FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'; CREATE TABLE from_app (x INT); DROP TABLE from_app; SELECT DATABASE();",
          ),
        ),
      ).toBe("study@127.0.0.2/255.255.255.255\n1\nstudy");
      refused(from("127.0.0.2", users.appUser, users.appPassword, false, "SELECT 1"), /Access denied for user 'study'@'127\.0\.0\.2'/);
      // The app's URL to a database host, opened as CamCOPS opens it (SQLAlchemy's create_engine with
      // PyMySQL: Debian's python3-sqlalchemy and python3-pymysql): ssl_check_hostname=false alone makes
      // the dialect pass PyMySQL an ssl argument, and PyMySQL then encrypts without verifying the
      // self-signed certificate. The same URL without it connects in the clear and is refused.
      const url = mariadbUrl(users, "127.0.0.1").replace(":3306/", `:${relays["127.0.0.2"].port}/`);
      expect(url).toMatch(/\?charset=utf8mb4&ssl_check_hostname=false$/);
      const viaSqlalchemy = (u: string) =>
        run("/usr/bin/python3", [
          "-c",
          `import sys, sqlalchemy\nwith sqlalchemy.create_engine(sys.argv[1]).connect() as c:\n    print(c.exec_driver_sql("SELECT CURRENT_USER(), VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'").one())`,
          u,
        ]);
      expect(ok(viaSqlalchemy(url))).toMatch(/^\('study@127\.0\.0\.2\/255\.255\.255\.255', 'TLSv1\.[23]'\)$/);
      refused(viaSqlalchemy(url.replace("&ssl_check_hostname=false", "")), /Access denied for user 'study'@'127\.0\.0\.2'/);
      refused(
        from("127.0.0.3", users.appUser, users.appPassword, true, "SELECT 1"),
        /Host '127\.0\.0\.3' is not allowed to connect|Access denied for user 'study'@'127\.0\.0\.3'/,
      );
      refused(from("127.0.0.2", users.analystUser, users.analystPassword, true, "SELECT 1"), /Access denied for user 'study_analyst'@'127\.0\.0\.2'/);
      expect(asRoot(`SHOW GRANTS FOR 'study'@'127.0.0.2/255.255.255.255'`).split("\n").slice(1)).toEqual([
        "GRANT ALL PRIVILEGES ON `study`.* TO `study`@`127.0.0.2/255.255.255.255`",
      ]);
      // A restore on the database host (the app runs elsewhere) locks the app's account there and ends its
      // sessions for the restore's duration; afterwards the app gets in again.
      const dbBackups = join(scratch, "database-host-backups");
      mkdirSync(dbBackups);
      const dbEnv = join(scratch, "database-host.env");
      writeFileSync(dbEnv, remote.replace(/^BACKUP_DIR=.*$/m, `BACKUP_DIR="${dbBackups}"`), { mode: 0o600 });
      must(run("bash", [script("backup-db-host.sh", MARIADB_BACKUP_SH)], clientEnv({ STUDYHOST_MARIADB_ENV: dbEnv })), "backup on the database host");
      const session = spawn(
        "mariadb",
        ["--no-defaults", "-h", "127.0.0.1", "-P", String(relays["127.0.0.2"].port), "--ssl", "-u", users.appUser, users.database, "-e", "SELECT SLEEP(120)"],
        {
          env: { ...baseEnv(), MYSQL_PWD: users.appPassword },
        },
      );
      const ended = new Promise<number | null>((resolve) => session.once("exit", (code) => resolve(code)));
      const sessions = () => asRoot(`SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${users.appUser}' AND HOST LIKE '127.0.0.2%'`);
      for (let i = 0; i < 50 && sessions() === "0"; i++) await new Promise((r) => setTimeout(r, 100));
      expect(sessions()).toBe("1");
      const restored = run("bash", [script("restore-db-host.sh", MARIADB_RESTORE_SH), "--yes"], clientEnv({ STUDYHOST_MARIADB_ENV: dbEnv }));
      expect([restored.status, restored.stderr]).toEqual([0, ""]);
      expect(await ended).not.toBe(0);
      expect(sessions()).toBe("0");
      expect(
        asRoot(`SELECT JSON_VALUE(Priv, '$.account_locked') FROM mysql.global_priv WHERE User = '${users.appUser}' AND Host = '127.0.0.2/255.255.255.255'`),
      ).toMatch(/^(0|false)$/);
      expect(ok(from("127.0.0.2", users.appUser, users.appPassword, true, "SELECT 1"))).toBe("1");
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
    expect(
      readdirSync(backups)
        .filter((f) => f.startsWith("study-2024"))
        .sort(),
    ).toEqual([5, 6, 7, 8, 9, 10].map((d) => `study-202401${String(d).padStart(2, "0")}T031500Z.dump`));

    const bad = join(scratch, "bad.env");
    writeFileSync(bad, readFileSync(envPath, "utf8").replace('DATABASE="study"', 'DATABASE="missing"'), { mode: 0o600 });
    const count = readdirSync(backups).length;
    const f = run("bash", [join(scratch, "backup.sh")], clientEnv({ STUDYHOST_MARIADB_ENV: bad }));
    expect(f.status).not.toBe(0);
    expect(f.stderr).toMatch(/Unknown database 'missing'/);
    expect(readdirSync(backups).length).toBe(count);
  });
});
