// Two more presets booted for real (issue 5), lab 6, one after the other, each from exactly the user
// data `studyhost plan --out` renders for a stack built from the preset's example stack file (only the
// lab's domain, admin address, ACME server, sources and package index change):
//  - camcops (seed 001) on the small tier of Pulumi.camcops.yaml: camcops_server in a venv with
//    camcops.conf in /etc/camcops, MariaDB from Debian on the same host (studyhost:accessories.mariadb),
//    its backups, restore and read-only analyst user, and a power-off / boot-again;
//  - bofs (seed 000) on the LARGE tier: PostgreSQL on the same host and psycopg2-binary in the venv
//    (presets.e2e.ts boots it on the small tier, SQLite).
//
// PyPI cannot be reached here, so the Python packages come from a local package index
// (standins/make_index.py, through the real studyhost:app.pipIndexUrl): a STAND-IN camcops_server
// (standins/camcops-standin: `camcops_server upgrade_db|serve_gunicorn --config FILE`), the STAND-IN
// BOFS (standins/bofs-standin), and REAL code repacked from Debian's packages on this machine: gunicorn,
// PyMySQL (python3-pymysql), SQLAlchemy (python3-sqlalchemy: the stand-in opens DB_URL with it) and psycopg2 (python3-psycopg2, under the name psycopg2-binary). Everything
// else (cloud-init, systemd, nginx, certbot against Pebble, MariaDB, PostgreSQL, pip, venvs) is real.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/more-presets.e2e.ts
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tcpProbe } from "../../src/local/boot";
import { serveGitRepo } from "../../src/local/gitServe";
import { committedRepo, DOMAIN, exampleConfig, fromInternet, PresetLab, PROVISIONED_CLEANLY, renderStack, servePackageIndex, startRun, finishRun } from "./lab";

const LAB = 6;
const STANDINS = join(__dirname, "standins");

jest.setTimeout(30 * 60_000);

let work: string;
const timings: Record<string, number> = {};

beforeAll(() => {
  work = startRun("more-presets", timings);
});

// Figures, not assertions: boot to a provisioned host, and to the preset's app answering over https.
afterAll(() => finishRun("more-presets", timings, work));

/** The http answer's status and Location (nginx's redirect to https). */
function redirect(lab: PresetLab, path: string) {
  const addr = lab.net.hosts[0].address;
  return fromInternet(lab.net, [
    "curl",
    "-sS",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code} %{redirect_url}",
    "--resolve",
    `${DOMAIN}:80:${addr}`,
    `http://${DOMAIN}${path}`,
  ]).stdout;
}

describe("camcops preset (seed 001): small tier, MariaDB on the host", () => {
  const lab = new PresetLab(LAB);
  const dir = () => join(work, "camcops");
  /** SQL as MariaDB's root (the socket), one value a line. */
  const sql = (query: string) => lab.inside(`mariadb --batch --skip-column-names camcops`, query);

  beforeAll(async () => {
    mkdirSync(dir(), { recursive: true });
    const net = lab.up();
    const index = servePackageIndex(dir(), net);
    lab.servers.push(index.pid);
    const example = exampleConfig("Pulumi.camcops.yaml");
    const { outDir } = renderStack(dir(), "e2e-camcops", lab.config(example, { pipIndexUrl: index.url }));
    timings.camcopsBootToProvisionedMs = await lab.boot(join(dir(), "study-app"), join(outDir, "study-app", "user-data"));
  });

  afterAll(() => lab.down());

  test("cloud-init finished, every provisioning step passed, no unit failed", () => expect(lab.provisioning()).toEqual(PROVISIONED_CLEANLY));

  test("camcops_server answers over https through nginx (the chain verified against Pebble's root), with the proxy headers it trusts", () => {
    timings.camcopsBootToHttpsMs = Date.now() - lab.bootStartedAt;
    const page = lab.get("/");
    expect(page.code).toBe("200");
    expect(page.body).toContain("<h1>CamCOPS: log in</h1>");
    expect(page.body).toContain("camcops_server stand-in (language en_GB)");
    // TRUSTED_PROXY_HEADERS in camcops.conf names what studyhost's nginx sends.
    expect(JSON.parse(lab.get("/request").body)).toEqual({ scheme: "https", remote: lab.net.internet.address });
  });

  test("http answers with a redirect to https", () => {
    expect(redirect(lab, "/request")).toBe(`308 https://${DOMAIN}/request`);
  });

  test("the deploy installed camcops_server==2.4.22 and PyMySQL from the configured index, ran upgrade_db, and serves through gunicorn from the venv", () => {
    const shown = lab.inside("/srv/camcops/venv/bin/pip show camcops_server").stdout;
    expect(shown).toMatch(/^Version: 2\.4\.22$/m);
    expect(shown).toMatch(/^Summary: STAND-IN for camcops_server/m);
    expect(lab.inside("/srv/camcops/venv/bin/pip show PyMySQL").stdout).toMatch(/^Location: \/srv\/camcops\/venv\//m);
    expect(lab.inside("cat /var/log/studyhost-provision.log").stdout).toMatch(
      /camcops_server stand-in: upgrade_db: database camcops on MariaDB 10\.11\.\S+ is at 2\.4\.22-standin-0001/,
    );
    const pid = lab.inside("systemctl show -p MainPID --value camcops.service").stdout.trim();
    expect(lab.inside(`ps -o user=,args= -p ${pid}`).stdout).toMatch(
      /^camcops +\/srv\/camcops\/venv\/bin\/python3? \/srv\/camcops\/venv\/bin\/camcops_server serve_gunicorn --config \/etc\/camcops\/camcops\.conf\n$/,
    );
    expect(lab.inside("cat /var/log/camcops/camcops.log").stdout).toContain("Starting gunicorn 20.1.0");
    expect(lab.inside("ss -Hltn 'sport = :8000'").stdout).toMatch(/127\.0\.0\.1:8000/);
  });

  test("camcops.conf is in /etc/camcops, root:camcops 0640 in a 0750 folder: the service reads it, other users do not", () => {
    expect(lab.inside("stat -c '%a %U:%G %n' /etc/camcops /etc/camcops/camcops.conf").stdout).toBe(
      "750 root:camcops /etc/camcops\n640 root:camcops /etc/camcops/camcops.conf\n",
    );
    expect(lab.inside("runuser -u camcops -- head -n 1 /etc/camcops/camcops.conf").stdout).toBe("[site]\n");
    const other = lab.inside("runuser -u nobody -- cat /etc/camcops/camcops.conf");
    expect([other.status, other.stderr]).toEqual([1, expect.stringContaining("Permission denied")]);
    // DB_URL is the accessory's URL: the app user, over TCP on loopback, PyMySQL.
    expect(lab.inside("grep '^DB_URL' /etc/camcops/camcops.conf").stdout).toMatch(
      /^DB_URL = mysql\+pymysql:\/\/camcops:[^@\s]+@127\.0\.0\.1:3306\/camcops\?charset=utf8mb4\n$/,
    );
  });

  test("a write then a read through camcops_server reaches MariaDB, whose data is on the data volume", () => {
    expect(lab.get("/write?body=first%20participant")).toEqual({ code: "200", body: "written\n" });
    expect(JSON.parse(lab.get("/read").body)).toEqual(["first participant"]);
    expect(sql("SELECT body FROM standin_notes;").stdout).toBe("first participant\n");
    expect(sql("SELECT @@datadir;").stdout).toBe("/var/lib/studyhost/mariadb/\n");
  });

  test("MariaDB listens on 127.0.0.1 only, and no PostgreSQL idles beside it (database.engine none); from the internet only 80 and 443 are open", () => {
    const listening = lab.inside("ss -Hltn 'sport = :3306'").stdout.trim().split("\n");
    expect(listening.map((l) => l.trim().split(/\s+/)[3])).toEqual(["127.0.0.1:3306"]);
    expect(lab.inside("ss -Hltn 'sport = :5432'").stdout).toBe("");
    expect(lab.inside("systemctl is-active postgresql.service").stdout.trim()).not.toBe("active");
    const addr = lab.net.hosts[0].address;
    expect(tcpProbe(lab.net.internet.netns, addr, 443)).toMatch(/^open/);
    for (const port of [3306, 8000]) expect(tcpProbe(lab.net.internet.netns, addr, port)).toBe("timeout");
  });

  test("the read-only analyst user reads the database and cannot write to it", () => {
    const asAnalyst = (query: string) =>
      lab.inside(
        `set -a; . /etc/studyhost/mariadb.env; MYSQL_PWD="$ANALYST_PASSWORD" mariadb --batch --skip-column-names -h 127.0.0.1 -u "$ANALYST_USER" "$DATABASE"`,
        query,
      );
    expect(asAnalyst("SELECT body FROM standin_notes;").stdout).toBe("first participant\n");
    const write = asAnalyst("INSERT INTO standin_notes (body) VALUES ('analyst');");
    expect(write.status).not.toBe(0);
    expect(write.stderr).toMatch(/INSERT command denied to user 'camcops_analyst'@'127\.0\.0\.1'/);
    expect(asAnalyst("DROP TABLE standin_notes;").stderr).toMatch(/DROP command denied/);
    expect(sql("SELECT body FROM standin_notes;").stdout).toBe("first participant\n");
  });

  test("the nightly backup dumps MariaDB (CamCOPS has no other database: database.engine none); delete the row, restore: the row is back", async () => {
    expect(lab.inside("systemctl is-enabled studyhost-accessories-backup.timer").stdout.trim()).toBe("enabled");
    const backup = lab.inside("systemctl start studyhost-accessories-backup.service");
    expect([backup.status, backup.stderr]).toEqual([0, ""]);
    const journal = lab.inside("journalctl -b -u studyhost-accessories-backup.service -o cat --no-pager").stdout;
    expect(journal).toMatch(/backup written: \/var\/lib\/studyhost\/backups\/mariadb\/camcops-\S+\.dump/);
    expect(lab.inside("ls /var/lib/studyhost/backups/mariadb").stdout).toMatch(/^camcops-\S+\.dump$/m);
    expect(sql("DELETE FROM standin_notes;").status).toBe(0);
    expect(JSON.parse(lab.get("/read").body)).toEqual([]);
    const restore = lab.inside("studyhost-restore-mariadb --yes");
    expect([restore.status, restore.stdout]).toEqual([0, expect.stringMatching(/^restored camcops from \/var\/lib\/studyhost\/backups\/mariadb\/camcops-/)]);
    await lab.answers("/", 30_000); // the restore stopped and started the app
    expect(JSON.parse(lab.get("/read").body)).toEqual(["first participant"]);
  });

  test("power off, boot the same root again: MariaDB comes back on its data on the volume (not re-initialised), camcops_server starts after it, the row is there", async () => {
    const birth = lab.inside("stat -c %W /var/lib/studyhost/mariadb/mysql").stdout.trim();
    timings.camcopsRebootMs = await lab.reboot();
    const report = lab.provisioning();
    expect([report.state, report.failed, report.journals]).toEqual(["running", [], {}]);
    timings.camcopsRebootToHttpsMs = timings.camcopsRebootMs + (await lab.answers("/", 60_000));
    expect(JSON.parse(lab.get("/read").body)).toEqual(["first participant"]);
    expect(lab.inside("stat -c %W /var/lib/studyhost/mariadb/mysql").stdout.trim()).toBe(birth);
    // serve_gunicorn refuses to start without its database (as CamCOPS checks its schema at start):
    // started after MariaDB, it never had to be restarted.
    expect(lab.inside("systemctl show -p NRestarts --value camcops.service").stdout.trim()).toBe("0");
  });
});

describe("bofs preset (seed 000): large tier, PostgreSQL on the same host", () => {
  const lab = new PresetLab(LAB);
  const dir = () => join(work, "bofs-postgres");
  const psql = (query: string) => lab.inside(`runuser -u postgres -- psql -d bofs -tAc "${query}"`);

  beforeAll(async () => {
    mkdirSync(dir(), { recursive: true });
    const net = lab.up();
    const index = servePackageIndex(dir(), net);
    lab.servers.push(index.pid);
    const experiment = committedRepo(join(STANDINS, "bofs-experiment-standin"), join(dir(), "experiment-src"), "v1.0.0", "BOFS experiment stand-in");
    const git = serveGitRepo(experiment.path, net, join(dir(), "git-experiment"), { name: "my-experiment" });
    lab.servers.push(git.pid);
    // The bofs example on the large tier: the preset picks PostgreSQL on the host there.
    const example = exampleConfig("Pulumi.bofs.yaml");
    const { outDir } = renderStack(
      dir(),
      "e2e-bofs-postgres",
      lab.config({ ...example, tier: "large" }, { experiment: { git: git.url, ref: "v1.0.0" }, pipIndexUrl: index.url }),
    );
    timings.bofsPostgresBootToProvisionedMs = await lab.boot(join(dir(), "study-app"), join(outDir, "study-app", "user-data"));
  });

  afterAll(() => lab.down());

  test("cloud-init finished, every provisioning step passed, no unit failed", () => expect(lab.provisioning()).toEqual(PROVISIONED_CLEANLY));

  test("BOFS answers over https through nginx; http redirects", () => {
    timings.bofsPostgresBootToHttpsMs = Date.now() - lab.bootStartedAt;
    const page = lab.get("/");
    expect(page.code).toBe("200");
    expect(page.body).toContain("<h1>Memory and Mood Study</h1>");
    expect(page.body).toContain("BOFS stand-in");
    expect(redirect(lab, "/")).toBe(`308 https://${DOMAIN}/`);
  });

  test("production.toml names PostgreSQL on this host; psycopg2-binary was installed in the venv from the index", () => {
    const uri = lab
      .inside(`python3 -c 'import tomllib; print(tomllib.load(open("/etc/bofs/production.toml", "rb"))["SQLALCHEMY_DATABASE_URI"])'`)
      .stdout.trim();
    expect(uri).toMatch(/^postgresql:\/\/bofs:[^@\s]+@(localhost|127\.0\.0\.1):5432\/bofs$/);
    expect(lab.inside("/srv/bofs/venv/bin/pip show psycopg2-binary").stdout).toMatch(/^Location: \/srv\/bofs\/venv\//m);
    expect(lab.inside("cat /var/log/studyhost-provision.log").stdout).toContain(
      "BOFS stand-in --check-config: production.toml is valid (TITLE='Memory and Mood Study', PORT=5000)",
    );
  });

  test("a write then a read through BOFS reaches PostgreSQL, in a table the app's role owns", () => {
    expect(lab.get("/write?body=first%20participant")).toEqual({ code: "200", body: "written\n" });
    expect(JSON.parse(lab.get("/read").body)).toEqual(["first participant"]);
    expect(psql("SELECT body FROM participant_notes").stdout).toBe("first participant\n");
    expect(psql("SELECT tableowner FROM pg_tables WHERE tablename = 'participant_notes'").stdout).toBe("bofs\n");
    expect(lab.inside("ls /var/lib/studyhost/bofs").stdout).not.toMatch(/sqlite3/);
  });

  test("IP Restriction: /admin refused from a non-admin address, answered from the admin address, the generated ADMIN_PASSWORD accepted", () => {
    const refused = lab.get("/admin");
    expect(refused.code).toBe("403");
    expect(refused.body).not.toContain("BOFS");
    const allowed = lab.get("/admin", true);
    expect(allowed.code).toBe("200");
    expect(allowed.body).toContain("BOFS stand-in admin: password");
    const password = lab
      .inside(`python3 -c 'import tomllib, urllib.parse; print(urllib.parse.quote(tomllib.load(open("/etc/bofs/production.toml", "rb"))["ADMIN_PASSWORD"]))'`)
      .stdout.trim();
    expect(password.length).toBeGreaterThan(16);
    expect(lab.get(`/admin?password=${password}`, true)).toEqual({ code: "200", body: "BOFS stand-in admin: logged in\n" });
    expect(lab.get(`/admin?password=${password}`).code).toBe("403");
  });

  test("from the internet only 80 and 443 are open: not BOFS's 5000, not PostgreSQL's 5432", () => {
    const addr = lab.net.hosts[0].address;
    expect(tcpProbe(lab.net.internet.netns, addr, 443)).toMatch(/^open/);
    for (const port of [5000, 5432]) expect(tcpProbe(lab.net.internet.netns, addr, port)).toBe("timeout");
  });
});
