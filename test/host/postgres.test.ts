// The rendered database set-up, run by the real programs (issue 3). A scratch PostgreSQL 15 cluster on
// loopback gets the rendered pg_hba.conf and settings (TLS on, with a throwaway certificate) and runs
// the rendered SETUP_SQL through the rendered provisioning command, twice. Then, over TCP with
// passwords, this file proves:
//   - the study database is UTF8 / C.UTF-8 although the cluster's default is SQL_ASCII (seed 004);
//   - the app role writes its own database and reaches nothing else (no other database, no CREATE
//     DATABASE, no CREATE ROLE);
//   - the analyst role reads every app table, including ones made after set-up, and cannot write,
//     even after switching its read-only default off;
//   - a wrong password and a role pg_hba.conf does not list are refused;
//   - the rendered backup and restore scripts round-trip PostgreSQL and SQLite data exactly (rows,
//     order, non-ASCII text, ownership, the analyst's access), also after DROP DATABASE (the restore
//     makes it again with the rendered set-up) or a deleted SQLite file; a failing backup (a database that does
//     not exist, a SQLite file that is missing) is loud and leaves no partial or empty file; restore
//     without --yes does nothing unless told yes;
//   - the backup and restore scripts pass shellcheck.
// Every refusal is matched on PostgreSQL's own error text, so an unrelated failure cannot pass for it.
// Needs root (runuser, chown, useradd) and Debian's postgresql-15, postgresql-client, sqlite3, openssl,
// python3 and shellcheck, as CI has them.
import { spawn, spawnSync, SpawnSyncReturns } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { freePort, waitFor } from "../support/processes";
import { join } from "node:path";
import {
  BACKUP_LIB_BASH,
  BACKUP_SH,
  backupPart,
  BackupSource,
  envFile,
  OFFSITE_ENV,
  PATHS,
  POSTGRES_ETC,
  POSTGRES_SETUP,
  postgresPart,
  PRUNE_PY,
  renderPgHba,
  RESTORE_SH,
  ROLES_FILE,
} from "../../src/host";

// initdb, two runs of the set-up and several dump/restore cycles: seconds, not Jest's default 5.
jest.setTimeout(60_000);

const PG_BIN = "/usr/lib/postgresql/15/bin";
/** An app user like the one app.ts creates (useradd --user-group): it owns the SQLite file. */
const SQLITE_OWNER = "studyhost-test-app";

// Passwords with single and double quotes, spaces, backslashes and a dollar: they travel from the
// roles env file through bash, the environment and psql's \getenv into SQL, and must arrive unchanged.
const roles = {
  database: "study_db",
  appUser: "study_app",
  appPassword: `it's a "quoted" pass\\word with $HOME`,
  analystUser: "study_analyst",
  analystPassword: `an\\alyst's "read-only" \\\\ pass`,
};
const input = { roles, memoryMb: 1024 };
const part = postgresPart(input);
const rendered = (path: string): string => {
  const file = part.files!.find((f) => f.path === path);
  if (!file) throw new Error(`postgresPart renders no ${path}`);
  return file.content;
};

let scratch = "";
let data = "";
let sockets = "";
let files = "";
let port = 0;
let started = false;
let createdUser = false;

/**
 * A clean environment: nothing of the caller's PG* settings leaks in. SHLVL because Node's stdio pipes
 * are sockets, and bash with a socket for stdin and no SHLVL takes itself for an rsh session and reads
 * ~/.bashrc, whose noise would then appear in the scripts' stderr.
 */
const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root", SHLVL: "1", LANG: "C.UTF-8" });
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...baseEnv(), PGHOST: sockets, PGPORT: String(port), ...extra };
}

function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", env: options.env ?? env(), input: options.input, timeout: 30_000 });
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}${r.error ? `\n${r.error}` : ""}`);
  return r.stdout;
}

/** Run a program as the postgres OS user, the way the rendered scripts do (runuser keeps the environment). */
const asPostgres = (cmd: string, args: string[], extra: Record<string, string> = {}) =>
  run("runuser", ["-u", "postgres", "--", cmd, ...args], { env: env(extra) });

/** SQL as the superuser, over the unix socket (pg_hba: `local all postgres peer`). */
function superSql(sql: string, db = roles.database): string {
  return must(asPostgres("psql", ["--no-psqlrc", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql]), `superuser: ${sql}`).trim();
}

/** psql over TCP to 127.0.0.1 with a password (scram), as the app or the analyst would connect. */
function tcp(user: string, password: string, sql: string, db = roles.database, extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  return run("psql", ["--no-psqlrc", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", db, "-f", "-"], {
    env: { ...baseEnv(), PGPASSWORD: password, PGCONNECT_TIMEOUT: "5", ...extra },
    input: sql,
  });
}
const asApp = (sql: string, db?: string) => tcp(roles.appUser, roles.appPassword, sql, db);
const asAnalyst = (sql: string, db?: string) => tcp(roles.analystUser, roles.analystPassword, sql, db);
const ok = (r: SpawnSyncReturns<string>) => must(r, "psql").trim();

/** The statement must fail, and with this error: not merely any error. */
function refused(r: SpawnSyncReturns<string>, error: RegExp): void {
  expect(r.stderr).toMatch(error);
  expect(r.status).not.toBe(0);
}

/**
 * The rendered set-up script (source a roles env file, then psql as postgres, which reads the values
 * with \getenv), written to scratch with only setup.sql's /etc path pointed there: what provisioning
 * runs for each database, and what a restore runs when its database is gone.
 */
function writeSetupScript(): string {
  const path = join(files, "studyhost-postgres-setup");
  writeFileSync(path, rendered(POSTGRES_SETUP).split(`${POSTGRES_ETC}/setup.sql`).join(join(files, "setup.sql")), { mode: 0o755 });
  return path;
}

/**
 * The provisioning step's own lines, from the rendered cluster script: the set-up script for the
 * study's roles file, then for each other app's. Only the /etc paths are pointed at scratch.
 */
function provisioningCommand(script = rendered(`${PATHS.sbin}/studyhost-postgres-cluster`), moved: Record<string, string> = {}): string {
  const start = `${POSTGRES_SETUP} ${ROLES_FILE}\n`;
  if (!script.includes(start)) throw new Error(`the cluster script no longer runs ${start}:\n${script}`);
  let tail = script.slice(script.indexOf(start));
  for (const [from, to] of Object.entries({ [POSTGRES_SETUP]: writeSetupScript(), [ROLES_FILE]: join(files, "postgres-roles.env"), ...moved }))
    tail = tail.split(from).join(to);
  return "set -euo pipefail\n" + tail;
}
const provision = () => run("bash", ["-c", provisioningCommand()]);

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("test/host/postgres.test.ts needs root (runuser, chown): run it as CI does, as root");
  // BACKUP_SH copies offsite when this fixed path exists; on a test machine it must not.
  if (existsSync(OFFSITE_ENV)) throw new Error(`${OFFSITE_ENV} exists on this machine: the backup script would upload test dumps`);
  scratch = mkdtempSync(join(tmpdir(), "studyhost-pg-"));
  chmodSync(scratch, 0o755); // postgres must reach its data and socket dirs inside
  data = join(scratch, "data");
  sockets = join(scratch, "sockets");
  files = join(scratch, "files");
  for (const dir of [data, sockets]) {
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, uid("postgres"), gid("postgres"));
  }
  mkdirSync(files, { mode: 0o755 });
  port = await freePort();

  // SQL_ASCII and C on purpose: the set-up must create the study database UTF8 / C.UTF-8 itself.
  must(asPostgres(join(PG_BIN, "initdb"), ["-D", data, "--encoding", "SQL_ASCII", "--locale", "C", "-U", "postgres"]), "initdb");
  writeFileSync(join(data, "pg_hba.conf"), renderPgHba(input));
  writeFileSync(join(data, "studyhost.conf"), rendered(`${POSTGRES_ETC}/studyhost.conf`));
  // The rendered settings say ssl = on: a throwaway self-signed certificate stands in for the host's.
  must(
    run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-keyout",
      join(data, "server.key"),
      "-out",
      join(data, "server.crt"),
    ]),
    "openssl",
  );
  // Only what a scratch cluster needs differs from the rendered file, and it is included after it.
  writeFileSync(
    join(data, "scratch.conf"),
    `port = ${port}\nunix_socket_directories = '${sockets}'\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n`,
  );
  appendFileSync(join(data, "postgresql.conf"), "\ninclude 'studyhost.conf'\ninclude 'scratch.conf'\n");
  for (const f of ["pg_hba.conf", "studyhost.conf", "scratch.conf", "server.crt", "server.key"]) {
    chownSync(join(data, f), uid("postgres"), gid("postgres"));
    chmodSync(join(data, f), 0o600);
  }
  const start = asPostgres(join(PG_BIN, "pg_ctl"), ["-D", data, "-l", join(data, "server.log"), "-w", "-t", "30", "start"]);
  started = start.status === 0;
  if (!started) throw new Error(`pg_ctl start failed:\n${start.stdout}${start.stderr}\n${readLog()}`);

  writeFileSync(join(files, "setup.sql"), rendered(`${POSTGRES_ETC}/setup.sql`), { mode: 0o644 });
  writeFileSync(join(files, "postgres-roles.env"), rendered(ROLES_FILE), { mode: 0o600 });
  const first = provision();
  // Quiet and clean: no notice, no warning, nothing on either stream.
  expect({ status: first.status, stdout: first.stdout, stderr: first.stderr }).toEqual({ status: 0, stdout: "", stderr: "" });

  if (spawnSync("id", ["-u", SQLITE_OWNER]).status !== 0) {
    must(run("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SQLITE_OWNER]), "useradd");
    createdUser = true;
  }
});

afterAll(() => {
  // Each clean-up on its own: a failed stop must not leave the scratch dir or the user behind.
  if (started) spawnSync("runuser", ["-u", "postgres", "--", join(PG_BIN, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"], { encoding: "utf8" });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (createdUser) spawnSync("userdel", [SQLITE_OWNER]);
});

function uid(user: string): number {
  return Number(must(run("id", ["-u", user]), `id -u ${user}`).trim());
}
function gid(user: string): number {
  return Number(must(run("id", ["-g", user]), `id -g ${user}`).trim());
}
function readLog(): string {
  try {
    return readFileSync(join(data, "server.log"), "utf8").split("\n").slice(-30).join("\n");
  } catch {
    return "(no server log)";
  }
}

describe("the rendered set-up", () => {
  test("the cluster default is SQL_ASCII, yet the study database is UTF8 with C.UTF-8 collation (seed 004)", () => {
    // Without the first line this test could pass merely because the server already defaulted to UTF8.
    expect(superSql("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'template1'")).toBe("SQL_ASCII");
    expect(ok(asApp("SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = current_database()"))).toBe(
      "UTF8|C.UTF-8|C.UTF-8",
    );
    expect(superSql(`SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${roles.database}'`)).toBe(roles.appUser);
  });

  test("TCP connections use the rendered TLS setting and scram passwords", () => {
    const r = tcp(roles.appUser, roles.appPassword, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", roles.database, { PGSSLMODE: "require" });
    expect(ok(r)).toBe("t");
    expect(superSql(`SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname IN ('${roles.appUser}', '${roles.analystUser}')`)).toBe(
      "SCRAM-SHA-256$\nSCRAM-SHA-256$",
    );
  });

  test("the app role creates, writes, updates and deletes in its database", () => {
    const out = ok(
      asApp(`
      CREATE TABLE participants (id serial PRIMARY KEY, name text NOT NULL, note text);
      INSERT INTO participants (name, note) VALUES ('first', 'a'), ('second', 'b'), ('third', 'c');
      UPDATE participants SET note = 'changed' WHERE name = 'second';
      DELETE FROM participants WHERE name = 'third';
      SELECT id, name, note FROM participants ORDER BY id;`),
    );
    expect(out).toBe("1|first|a\n2|second|changed");
  });

  test("the app role reaches no other database and cannot create databases or roles", () => {
    // pg_hba.conf refuses the connection outright ...
    refused(asApp("SELECT 1", "postgres"), /no pg_hba\.conf entry for host "127\.0\.0\.1", user "study_app", database "postgres"/);
    refused(asApp("SELECT 1", "template1"), /no pg_hba\.conf entry for host "127\.0\.0\.1", user "study_app", database "template1"/);
    // ... and behind it the set-up's REVOKE CONNECT holds too, should pg_hba.conf ever be loosened.
    for (const role of [roles.appUser, roles.analystUser]) {
      expect(
        superSql(`SELECT has_database_privilege('${role}', 'postgres', 'CONNECT'), has_database_privilege('${role}', 'template1', 'CONNECT')`, "postgres"),
      ).toBe("f|f");
    }
    refused(asApp("CREATE DATABASE another"), /permission denied to create database/);
    refused(asApp("CREATE ROLE another"), /permission denied to create role/);
    refused(asApp("ALTER ROLE study_app CREATEDB"), /permission denied/);
  });

  test("the analyst reads the app's tables, including ones created after set-up (default privileges)", () => {
    // participants and this table were both created by the app after the set-up ran.
    ok(asApp("CREATE TABLE later (id int PRIMARY KEY, v text); INSERT INTO later VALUES (1, 'x');"));
    expect(ok(asAnalyst("SELECT name FROM participants ORDER BY id"))).toBe("first\nsecond");
    expect(ok(asAnalyst("SELECT v FROM later"))).toBe("x");
    expect(ok(asAnalyst("SELECT last_value > 0 FROM participants_id_seq"))).toBe("t");
  });

  test("the analyst cannot write: read-only by default, and without privileges when it switches that off", () => {
    refused(asAnalyst("INSERT INTO participants (name) VALUES ('x')"), /cannot execute INSERT in a read-only transaction/);
    refused(asAnalyst("UPDATE participants SET note = 'x'"), /cannot execute UPDATE in a read-only transaction/);
    refused(asAnalyst("DELETE FROM participants"), /cannot execute DELETE in a read-only transaction/);
    refused(asAnalyst("CREATE TABLE mine (x int)"), /cannot execute CREATE TABLE in a read-only transaction/);
    // default_transaction_read_only is only a default: the analyst may turn it off. The grants must hold alone.
    const rw = "SET default_transaction_read_only = off;\n";
    refused(asAnalyst(rw + "INSERT INTO participants (name) VALUES ('x')"), /permission denied for table participants/);
    refused(asAnalyst(rw + "UPDATE participants SET note = 'x'"), /permission denied for table participants/);
    refused(asAnalyst(rw + "DELETE FROM participants"), /permission denied for table participants/);
    refused(asAnalyst(rw + "TRUNCATE participants"), /permission denied for table participants/);
    refused(asAnalyst(rw + "CREATE TABLE mine (x int)"), /permission denied for schema public/);
    refused(asAnalyst(rw + "CREATE TEMP TABLE mine (x int)"), /permission denied to create temporary tables in database "study_db"/);
    refused(asAnalyst(rw + "SELECT nextval('participants_id_seq')"), /permission denied for sequence participants_id_seq/);
    expect(ok(asApp("SELECT count(*) FROM participants"))).toBe("2");
  });

  test("a wrong password is refused; so is a role pg_hba.conf does not list, even with the right password", () => {
    refused(tcp(roles.appUser, "not-the-password", "SELECT 1"), /password authentication failed for user "study_app"/);
    refused(tcp(roles.analystUser, roles.appPassword, "SELECT 1"), /password authentication failed for user "study_analyst"/);
    superSql("CREATE ROLE intruder LOGIN PASSWORD 'intruder-pass'; GRANT CONNECT ON DATABASE study_db TO intruder;");
    refused(tcp("intruder", "intruder-pass", "SELECT 1"), /no pg_hba\.conf entry for host "127\.0\.0\.1", user "intruder", database "study_db"/);
  });

  test("running the set-up again succeeds quietly and keeps roles, grants and the app's data", () => {
    // Everything a second provisioning could damage; SCRAM hashes are left out (the salt changes).
    const snapshot = () =>
      superSql(`
      SELECT json_build_object(
        'roles', (SELECT json_agg(json_build_array(rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolreplication, rolbypassrls, rolconfig) ORDER BY rolname)
                  FROM pg_roles WHERE rolname IN ('${roles.appUser}', '${roles.analystUser}')),
        'databases', (SELECT json_agg(json_build_array(datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datacl::text) ORDER BY datname) FROM pg_database),
        'schema', (SELECT json_build_array(pg_get_userbyid(nspowner), nspacl::text) FROM pg_namespace WHERE nspname = 'public'),
        'defaults', (SELECT json_agg(json_build_array(pg_get_userbyid(defaclrole), defaclobjtype, defaclacl::text) ORDER BY defaclobjtype) FROM pg_default_acl),
        'tables', (SELECT json_agg(json_build_array(relname, pg_get_userbyid(relowner), relacl::text) ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace),
        'rows', (SELECT json_agg(p ORDER BY id) FROM participants p))`);
    const before = snapshot();
    const again = provision();
    expect({ status: again.status, stdout: again.stdout, stderr: again.stderr }).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(snapshot()).toBe(before);
    // The passwords were set again, to the same values: both still log in.
    expect(ok(asApp("SELECT current_user"))).toBe(roles.appUser);
    expect(ok(asAnalyst("SELECT current_user"))).toBe(roles.analystUser);
  });
});

describe("backup and restore with the rendered scripts", () => {
  const writeScripts = () => {
    const paths = { backup: join(files, "studyhost-backup"), restore: join(files, "studyhost-restore"), prune: join(files, "prune_backups.py") };
    writeFileSync(paths.backup, BACKUP_SH, { mode: 0o755 });
    writeFileSync(paths.restore, RESTORE_SH, { mode: 0o755 });
    writeFileSync(paths.prune, PRUNE_PY, { mode: 0o755 });
    writeFileSync(join(files, "backup-lib.bash"), BACKUP_LIB_BASH);
    return paths;
  };

  /** backup.env as backupPart renders it, with only BACKUP_DIR moved to scratch; NAME may be overridden. */
  function backupEnv(file: string, source: BackupSource, backupDir: string, overrides: Record<string, string> = {}): void {
    const renderedEnv = backupPart({ source, schedule: "daily", keepDaily: 7, keepWeekly: 4, keepMonthly: 6 }).files!.find(
      (f) => f.path === `${PATHS.etc}/backup.env`,
    )!.content;
    const vars: Record<string, string> = {
      ENGINE: source.engine,
      BACKUP_DIR: backupDir,
      NAME: source.engine === "postgres" ? source.database : "study",
      KEEP_DAILY: "7",
      KEEP_WEEKLY: "4",
      KEEP_MONTHLY: "6",
      APP_UNIT: "",
      ...(source.engine === "postgres"
        ? { APP_ROLE: source.appRole, ROLES_ENV: join(files, "postgres-roles.env") }
        : { SQLITE_PATH: source.path, SQLITE_OWNER: source.owner }),
    };
    // The same variables as the rendered file, and the same values except the scratch paths: this
    // file stays a faithful stand-in if backupPart changes.
    expect(envFile({ ...vars, BACKUP_DIR: PATHS.backups, ...(source.engine === "postgres" ? { ROLES_ENV: ROLES_FILE } : {}) })).toBe(renderedEnv);
    writeFileSync(file, envFile({ ...vars, ...overrides }), { mode: 0o644 });
  }

  const scriptEnv = (envPath: string, prune: string) =>
    env({
      STUDYHOST_BACKUP_ENV: envPath,
      STUDYHOST_PRUNE: prune,
      STUDYHOST_BACKUP_LIB: join(files, "backup-lib.bash"),
      STUDYHOST_POSTGRES_SETUP: writeSetupScript(),
    });

  test("PostgreSQL: backup, lose the data, restore --yes: identical rows, owned by the app, readable by the analyst; the app's sessions ended for it", async () => {
    const s = writeScripts();
    const dir = join(scratch, "backups-pg");
    const envPath = join(files, "backup-pg.env");
    backupEnv(envPath, { engine: "postgres", database: roles.database, appRole: roles.appUser }, dir);
    ok(
      asApp(`
      CREATE TABLE visits (id bigserial PRIMARY KEY, participant int REFERENCES participants (id), place text, at timestamptz);
      INSERT INTO participants (name, note) VALUES ('Zoë, 東京', E'line one\\nline two'), ('O''Brien "quoted" \\ back', '🙂 emoji');
      INSERT INTO visits (participant, place, at) VALUES (1, 'Zürich', '2025-03-01 10:00Z'), (2, 'Kraków', '2025-03-02 11:30Z'), (1, 'Reykjavík', NULL);`),
    );
    const rowsQuery = "SELECT json_build_array((SELECT json_agg(p ORDER BY id) FROM participants p), (SELECT json_agg(v ORDER BY id) FROM visits v))";
    const before = ok(asApp(rowsQuery));
    expect(before).toContain("Zoë, 東京");

    const backup = run(s.backup, [], { env: scriptEnv(envPath, s.prune) });
    expect(must(backup, "studyhost-backup")).toMatch(/^backup written: .*\/study_db-\d{8}T\d{6}Z\.dump \(\d+ bytes\)$/m);
    expect(backup.stderr).toBe(""); // pg_dump, the dump check and the pruning: no warning at all
    const dumps = readdirSync(dir);
    expect(dumps).toEqual([expect.stringMatching(/^study_db-\d{8}T\d{6}Z\.dump$/)]);
    expect(statSync(join(dir, dumps[0])).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    // Lose data three ways: rows deleted, rows changed, a whole table dropped.
    ok(asApp("DELETE FROM participants WHERE id > 2; UPDATE participants SET name = 'overwritten'; DROP TABLE visits;"));
    expect(ok(asApp("SELECT to_regclass('visits') IS NULL, count(*) FROM participants WHERE name <> 'overwritten'"))).toBe("t|0");

    // The app on another machine (APP_UNIT empty: two-server's database host) holds a session open.
    const session = spawn(
      "psql",
      ["--no-psqlrc", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", String(port), "-U", roles.appUser, "-d", roles.database, "-c", "SELECT pg_sleep(120)"],
      { env: { ...baseEnv(), PGPASSWORD: roles.appPassword } },
    );
    const sessionEnded = new Promise<string>((resolve) => {
      let stderr = "";
      session.stderr.on("data", (d) => (stderr += d));
      session.on("exit", () => resolve(stderr));
    });
    await waitFor("the app's session", () => superSql(`SELECT count(*) FROM pg_stat_activity WHERE usename = '${roles.appUser}'`) === "1", 10_000);

    const restore = run(s.restore, ["--yes"], { env: scriptEnv(envPath, s.prune) });
    expect(must(restore, "studyhost-restore")).toContain(`restored study_db from ${join(dir, dumps[0])}`);
    expect(restore.stderr).toBe(""); // pg_restore --clean --if-exists --role: not even a warning
    // Its session was ended before the restore, and the role may log in again after it.
    expect(await sessionEnded).toMatch(/terminating connection due to administrator command/);
    expect(superSql(`SELECT rolcanlogin FROM pg_roles WHERE rolname = '${roles.appUser}'`)).toBe("t");
    expect(ok(asApp(rowsQuery))).toBe(before);

    // Owned by the app role (not postgres, who ran pg_restore), so the app can migrate them later.
    expect(superSql("SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S', 'i')")).toBe(
      roles.appUser,
    );
    expect(ok(asAnalyst("SELECT place FROM visits ORDER BY id"))).toBe("Zürich\nKraków\nReykjavík");
    expect(ok(asAnalyst("SELECT note FROM participants WHERE name = 'Zoë, 東京'"))).toBe("line one\nline two");
    refused(asAnalyst("SET default_transaction_read_only = off; DELETE FROM visits"), /permission denied for table visits/);
    // The sequences came back too: the next row follows the restored ones instead of colliding.
    const maxId = Number(ok(asApp("SELECT max(id) FROM participants")));
    expect(ok(asApp("INSERT INTO participants (name) VALUES ('after restore') RETURNING id"))).toBe(String(maxId + 1));
    // And the default privileges: a table the app makes after the restore is readable by the analyst.
    ok(asApp("CREATE TABLE after_restore (x int); INSERT INTO after_restore VALUES (42);"));
    expect(ok(asAnalyst("SELECT x FROM after_restore"))).toBe("42");
  });

  test("PostgreSQL: backup, DROP DATABASE, restore --yes: the database is made again as provisioning makes it, with identical rows", () => {
    const s = writeScripts();
    const dir = join(scratch, "backups-pg-drop");
    const envPath = join(files, "backup-pg-drop.env");
    backupEnv(envPath, { engine: "postgres", database: roles.database, appRole: roles.appUser }, dir);
    const rowsQuery = "SELECT json_build_array((SELECT json_agg(p ORDER BY id) FROM participants p), (SELECT json_agg(v ORDER BY id) FROM visits v))";
    const before = ok(asApp(rowsQuery));
    expect(before).toContain("Zürich");
    must(run(s.backup, [], { env: scriptEnv(envPath, s.prune) }), "studyhost-backup");

    superSql(`DROP DATABASE ${roles.database}`, "postgres");
    expect(superSql(`SELECT count(*) FROM pg_database WHERE datname = '${roles.database}'`, "postgres")).toBe("0");

    const restore = run(s.restore, ["--yes"], { env: scriptEnv(envPath, s.prune) });
    expect(must(restore, "studyhost-restore")).toContain(`no database ${roles.database}: creating it as provisioning does\nrestored ${roles.database} from `);
    expect(restore.stderr).toBe("");
    expect(ok(asApp(rowsQuery))).toBe(before);
    // As the set-up makes it: UTF8 / C.UTF-8 from template0 (the cluster defaults to SQL_ASCII), the app's.
    expect(
      superSql(`SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = '${roles.database}'`, "postgres"),
    ).toBe(`${roles.appUser}|UTF8|C.UTF-8`);
    expect(superSql("SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S', 'i')")).toBe(
      roles.appUser,
    );
    // The analyst reads, cannot write, and reads what the app makes next (the default privileges).
    expect(ok(asAnalyst("SELECT place FROM visits ORDER BY id"))).toBe("Zürich\nKraków\nReykjavík");
    refused(asAnalyst("SET default_transaction_read_only = off; DELETE FROM visits"), /permission denied for table visits/);
    ok(asApp("CREATE TABLE after_drop (x int); INSERT INTO after_drop VALUES (7);"));
    expect(ok(asAnalyst("SELECT x FROM after_drop"))).toBe("7");
    refused(asApp("SELECT 1", "postgres"), /no pg_hba\.conf entry/);
  });

  test("SQLite: backup, change the data, restore --yes: identical rows, the app user's file, an intact backup", () => {
    const s = writeScripts();
    const dir = join(scratch, "backups-sqlite");
    // As on a host: the app's state folder and its database belong to the app's user (app.ts).
    const state = join(scratch, "state");
    mkdirSync(state, { mode: 0o750 });
    chownSync(state, uid(SQLITE_OWNER), gid(SQLITE_OWNER));
    const db = join(state, "study.sqlite3");
    const envPath = join(files, "backup-sqlite.env");
    backupEnv(envPath, { engine: "sqlite", name: "study", path: db, owner: SQLITE_OWNER }, dir);
    must(
      run("runuser", ["-u", SQLITE_OWNER, "--", "sqlite3", db], {
        input: `
      CREATE TABLE participants (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT);
      INSERT INTO participants (name, note) VALUES ('Zoë, 東京', 'line one' || char(10) || 'line two'), ('O''Brien "quoted" \\ back', '🙂'), ('third', NULL);`,
      }),
      "sqlite3 create",
    );
    const rows = () => must(run("sqlite3", ["-json", db, "SELECT id, name, note FROM participants ORDER BY id"]), "sqlite3 select");
    const before = rows();
    expect(before).toContain("Zoë, 東京");

    must(run(s.backup, [], { env: scriptEnv(envPath, s.prune) }), "studyhost-backup");
    const backups = readdirSync(dir);
    expect(backups).toEqual([expect.stringMatching(/^study-\d{8}T\d{6}Z\.sqlite3$/)]);
    expect(must(run("sqlite3", [join(dir, backups[0]), "PRAGMA integrity_check;"]), "integrity_check").trim()).toBe("ok");

    must(
      run("sqlite3", [
        db,
        "DELETE FROM participants WHERE id = 2; UPDATE participants SET name = 'overwritten'; INSERT INTO participants (name) VALUES ('new');",
      ]),
      "sqlite3 change",
    );
    const changed = rows();
    expect(changed).not.toBe(before);

    const restore = run(s.restore, ["--yes"], { env: scriptEnv(envPath, s.prune) });
    expect(must(restore, "studyhost-restore")).toContain(`restored study from ${join(dir, backups[0])}`);
    expect(rows()).toBe(before);
    // The app (not root) owns the restored file; the replaced data is kept beside it, just in case.
    const st = statSync(db);
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ uid: uid(SQLITE_OWNER), gid: gid(SQLITE_OWNER), mode: 0o640 });
    expect(must(run("sqlite3", ["-json", `${db}.before-restore`, "SELECT id, name, note FROM participants ORDER BY id"]), "before-restore")).toBe(changed);
  });

  test("SQLite: the database file deleted, restore --yes puts the backup's rows back in a file of the app user's", () => {
    // Follows the SQLite test above: its folder, settings and backup.
    const s = writeScripts();
    const envPath = join(files, "backup-sqlite.env");
    const db = join(scratch, "state", "study.sqlite3");
    const backup = join(scratch, "backups-sqlite", readdirSync(join(scratch, "backups-sqlite"))[0]);
    const rows = (file: string) => must(run("sqlite3", ["-json", file, "SELECT id, name, note FROM participants ORDER BY id"]), "sqlite3 select");
    for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.before-restore`]) rmSync(f, { force: true });
    const restore = run(s.restore, ["--yes"], { env: scriptEnv(envPath, s.prune) });
    expect(must(restore, "studyhost-restore")).toContain(`restored study from ${backup}`);
    expect(rows(db)).toBe(rows(backup));
    expect(rows(db)).toContain("Zoë, 東京");
    const st = statSync(db);
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).toEqual({ uid: uid(SQLITE_OWNER), gid: gid(SQLITE_OWNER), mode: 0o640 });
    // Nothing was there to keep aside.
    expect(existsSync(`${db}.before-restore`)).toBe(false);
  });

  test("a failing PostgreSQL backup exits non-zero, says why, and leaves no partial file", () => {
    const s = writeScripts();
    const dir = join(scratch, "backups-failing");
    const envPath = join(files, "backup-failing.env");
    backupEnv(envPath, { engine: "postgres", database: roles.database, appRole: roles.appUser }, dir, { NAME: "no_such_db" });
    const r = run(s.backup, [], { env: scriptEnv(envPath, s.prune) });
    expect(r.stderr).toMatch(/database "no_such_db" does not exist/);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toMatch(/backup written/);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a SQLite backup of a missing database file fails instead of saving an empty database", () => {
    // A wrong SQLITE_PATH (or a volume not mounted) must not produce "successful" empty backups that
    // the retention rule would, day by day, keep in place of the real ones.
    const s = writeScripts();
    const dir = join(scratch, "backups-sqlite-missing");
    const missing = join(scratch, "no-state", "study.sqlite3");
    mkdirSync(join(scratch, "no-state"));
    const envPath = join(files, "backup-sqlite-missing.env");
    backupEnv(envPath, { engine: "sqlite", name: "study", path: missing, owner: SQLITE_OWNER }, dir);
    const r = run(s.backup, [], { env: scriptEnv(envPath, s.prune) });
    expect(r.status).not.toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    // Nor may the backup create the database file: it would be root's, empty, and in the app's way.
    expect(existsSync(missing)).toBe(false);
  });

  test("restore refuses without --yes when the answer is not yes, and changes nothing", () => {
    const s = writeScripts();
    const envPath = join(files, "backup-pg.env");
    // A row the backup does not have: a restore that went ahead anyway would remove it.
    ok(asApp("INSERT INTO participants (name) VALUES ('kept: no restore')"));
    const r = run(s.restore, [], { env: scriptEnv(envPath, s.prune), input: "no\n" });
    expect(r.stdout).toContain("nothing restored");
    expect(r.status).not.toBe(0);
    expect(ok(asApp("SELECT count(*) FROM participants WHERE name = 'kept: no restore'"))).toBe("1");
  });
});

test("the backup and restore scripts pass shellcheck", () => {
  for (const text of [BACKUP_SH, RESTORE_SH]) {
    const r = spawnSync("shellcheck", ["-"], { input: text, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  }
});

// A staging copy and a site with `database: true` (studyhost:staging / sites): the same server gets a
// database and roles per app, set up by the cluster script's loop over their roles files, and each
// app's role reaches only its own database.
describe("other apps' databases on the same server", () => {
  const staging = {
    database: "study_db_staging",
    appUser: "study_db_staging",
    appPassword: "staging 'pw' $x",
    analystUser: "study_db_staging_analyst",
    analystPassword: "staging-analyst",
  };
  const site = { database: "dashboard", appUser: "dashboard", appPassword: "dash\\pw", analystUser: "dashboard_analyst", analystPassword: "dash-analyst" };
  const multi = postgresPart({ ...input, extraRoles: [staging, site] });
  const multiFile = (path: string) => multi.files!.find((f) => f.path === path)!.content;

  beforeAll(() => {
    // The rendered pg_hba.conf for all three databases, loaded by the running server.
    writeFileSync(join(data, "pg_hba.conf"), renderPgHba({ ...input, extraRoles: [staging, site] }));
    must(asPostgres(join(PG_BIN, "pg_ctl"), ["-D", data, "reload"]), "pg_ctl reload");
    const script = multiFile(`${PATHS.sbin}/studyhost-postgres-cluster`);
    // The script's set-up lines (the study's roles file, then the loop over the others'), pointed at scratch.
    expect(script).toContain("for roles in /etc/studyhost/postgres-roles.d/study_db_staging.env /etc/studyhost/postgres-roles.d/dashboard.env; do");
    const moved: Record<string, string> = {};
    for (const db of [staging.database, site.database]) {
      const path = `${PATHS.etc}/postgres-roles.d/${db}.env`;
      writeFileSync(join(files, `${db}.env`), multiFile(path), { mode: 0o600 });
      moved[path] = join(files, `${db}.env`);
    }
    writeFileSync(join(files, "postgres-roles.env"), multiFile(ROLES_FILE), { mode: 0o600 });
    const tail = provisioningCommand(script, moved);
    const r = run("bash", ["-c", tail]);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  test("each app's role owns its own UTF8 database and writes there", () => {
    for (const r of [staging, site]) {
      expect(superSql(`SELECT pg_get_userbyid(datdba) || ' ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = '${r.database}'`)).toBe(
        `${r.appUser} UTF8`,
      );
      expect(ok(tcp(r.appUser, r.appPassword, "CREATE TABLE t (x int); INSERT INTO t VALUES (1); SELECT count(*) FROM t;", r.database))).toBe("1");
      expect(ok(tcp(r.analystUser, r.analystPassword, "SELECT count(*) FROM t;", r.database))).toBe("1");
    }
  });

  test("no app's role reaches another app's database: not staging production's, not the study's app the site's", () => {
    refused(
      tcp(staging.appUser, staging.appPassword, "SELECT 1", roles.database),
      /no pg_hba.conf entry for host "127\.0\.0\.1", user "study_db_staging", database "study_db"/,
    );
    refused(
      tcp(site.appUser, site.appPassword, "SELECT 1", staging.database),
      /no pg_hba.conf entry for host "127\.0\.0\.1", user "dashboard", database "study_db_staging"/,
    );
    refused(asApp("SELECT 1", site.database), /no pg_hba.conf entry for host "127\.0\.0\.1", user "study_app", database "dashboard"/);
    // Even past pg_hba (as if it listed everyone), the databases themselves admit only their own roles.
    const connect = (role: string, db: string) => superSql(`SELECT has_database_privilege('${role}', '${db}', 'CONNECT')`);
    expect([
      connect(staging.appUser, roles.database),
      connect(site.appUser, roles.database),
      connect(roles.appUser, staging.database),
      connect(site.analystUser, staging.database),
    ]).toEqual(["f", "f", "f", "f"]);
    expect([connect(staging.appUser, staging.database), connect(site.analystUser, site.database)]).toEqual(["t", "t"]);
  });
});
