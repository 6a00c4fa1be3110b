// The presets booted for real (issue 5): the bofs preset (seed 000, small tier, SQLite) and the
// backscope preset (seed 004, large tier, PostgreSQL on the same host), one after the other, each from
// exactly the user data `studyhost plan --out` renders for a stack built from Pulumi.bofs.yaml /
// Pulumi.backscope.yaml. Only the lab's domain, admin address and ACME server and the sources change
// (plus, for backscope, Debian's psycopg2 through the app keys aptPackages / systemSitePackages).
//
// PyPI cannot be reached here, so the Python packages are STAND-INS served from a local package index
// (standins/make_index.py, through the real studyhost:app.pipIndexUrl): a stand-in bride-of-frankensystem
// (`python -m BOFS production.toml [--check-config]`), a stand-in `flask` command (`flask db upgrade`),
// and the REAL gunicorn (Debian's python3-gunicorn files repacked as a wheel). The git repositories are
// stand-ins too: a BOFS experiment, backscope (standins/backscope-standin: wsgi:app, requirements.txt,
// migrations) and frontscope's built files, served with src/local/gitServe.ts. Everything else (cloud-init,
// systemd, nginx, certbot against Pebble, PostgreSQL, the deploy script, pip, venvs) is real.
//
//   npm run build && npx jest -c test/e2e/jest.config.js test/e2e/presets.e2e.ts
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tcpProbe } from "../../src/local/boot";
import { serveGitRepo } from "../../src/local/gitServe";
import {
  ADMIN,
  committedRepo,
  DOMAIN,
  exampleConfig,
  fromInternet,
  PresetLab,
  PROVISIONED_CLEANLY,
  renderStack,
  servePackageIndex,
  startRun,
  finishRun,
} from "./lab";

const LAB = 4;
const STANDINS = join(__dirname, "standins");

jest.setTimeout(30 * 60_000);

let work: string;
const timings: Record<string, number> = {};

beforeAll(() => {
  work = startRun("presets", timings);
});

// Figures, not assertions: boot to a provisioned host, and to the preset's app answering over https.
afterAll(() => finishRun("presets", timings, work));

/** cloud-init finished, the system running with no failed unit, every provisioning step passed. */
function provisionedCleanly(lab: PresetLab) {
  expect(lab.provisioning()).toEqual(PROVISIONED_CLEANLY);
}

describe("bofs preset (seed 000): small tier, SQLite", () => {
  const lab = new PresetLab(LAB);
  const dir = () => join(work, "bofs");

  beforeAll(async () => {
    mkdirSync(dir(), { recursive: true });
    const net = lab.up();
    const index = servePackageIndex(dir(), net);
    lab.servers.push(index.pid);
    const experiment = committedRepo(join(STANDINS, "bofs-experiment-standin"), join(dir(), "experiment-src"), "v1.0.0", "BOFS experiment stand-in");
    const git = serveGitRepo(experiment.path, net, join(dir(), "git-experiment"), { name: "my-experiment" });
    lab.servers.push(git.pid);
    const example = exampleConfig("Pulumi.bofs.yaml");
    const { outDir } = renderStack(dir(), "e2e-bofs", lab.config(example, { experiment: { git: git.url, ref: "v1.0.0" }, pipIndexUrl: index.url }));
    timings.bofsBootToProvisionedMs = await lab.boot(join(dir(), "study-app"), join(outDir, "study-app", "user-data"));
  });

  afterAll(() => lab.down());

  test("cloud-init finished, every provisioning step passed, no unit failed", () => provisionedCleanly(lab));

  test("BOFS answers over https through nginx with the TITLE and PAGE_LIST of the rendered production.toml", () => {
    timings.bofsBootToHttpsMs = Date.now() - lab.bootStartedAt;
    const page = lab.get("/");
    expect(page.code).toBe("200");
    expect(page.body).toContain("<h1>Memory and Mood Study</h1>");
    expect(page.body).toContain("Pages: Consent, Demographics, End");
    expect(page.body).toContain("BOFS stand-in");
  });

  test("the deploy step installed BOFS with pip from the configured index and ran --check-config on production.toml", () => {
    const log = lab.inside("cat /var/log/studyhost-provision.log /var/log/cloud-init-output.log").stdout;
    expect(log).toContain("BOFS stand-in --check-config: production.toml is valid (TITLE='Memory and Mood Study', PORT=5000)");
    const shown = lab.inside("/srv/bofs/venv/bin/pip show bride-of-frankensystem").stdout;
    expect(shown).toMatch(/^Summary: STAND-IN for BOFS/m);
    expect(shown).toMatch(/^Location: \/srv\/bofs\/venv\//m);
    expect(lab.inside("readlink /srv/bofs/src/production.toml").stdout.trim()).toBe("/etc/bofs/production.toml");
  });

  test("a write then a read through BOFS reaches the SQLite database on the data volume", () => {
    expect(lab.get("/write?body=first%20participant")).toEqual({ code: "200", body: "written\n" });
    expect(JSON.parse(lab.get("/read").body)).toEqual(["first participant"]);
    expect(lab.inside("sqlite3 /var/lib/studyhost/bofs/bofs.sqlite3 'SELECT body FROM participant_notes'").stdout).toBe("first participant\n");
    expect(readFileSync(join(lab.host!.data, "bofs", "bofs.sqlite3")).length).toBeGreaterThan(0);
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

  test("/static comes from the experiment's checkout through nginx", () => {
    expect(lab.get("/static/style.css")).toEqual({ code: "200", body: readFileSync(join(STANDINS, "bofs-experiment-standin", "static", "style.css"), "utf8") });
  });

  test("BOFS binds 0.0.0.0:5000, yet from the internet only 80 and 443 are open", () => {
    expect(lab.inside("ss -Hltn 'sport = :5000'").stdout).toMatch(/0\.0\.0\.0:5000/);
    const addr = lab.net.hosts[0].address;
    expect(tcpProbe(lab.net.internet.netns, addr, 443)).toMatch(/^open/);
    expect(tcpProbe(lab.net.internet.netns, addr, 5000)).toBe("timeout");
    expect(tcpProbe(lab.net.internet.netns, addr, 5000, ADMIN)).toBe("timeout");
  });
});

describe("backscope preset (seed 004): large tier, PostgreSQL on the same host", () => {
  const lab = new PresetLab(LAB);
  const dir = () => join(work, "backscope");
  let backscopeCommit = "";

  beforeAll(async () => {
    mkdirSync(dir(), { recursive: true });
    const net = lab.up();
    const index = servePackageIndex(dir(), net);
    lab.servers.push(index.pid);
    const backscope = committedRepo(join(STANDINS, "backscope-standin"), join(dir(), "backscope-src"), "v1.0.0", "backscope stand-in");
    backscopeCommit = backscope.shortHash;
    const frontscope = committedRepo(join(STANDINS, "frontscope-dist-standin"), join(dir(), "frontscope-dist-src"), "v1.0.0", "frontscope-dist stand-in");
    const git = serveGitRepo(backscope.path, net, join(dir(), "git-backscope"), { name: "backscope", port: 8080 });
    const gitFront = serveGitRepo(frontscope.path, net, join(dir(), "git-frontscope"), { name: "frontscope-dist", port: 8081 });
    lab.servers.push(git.pid, gitFront.pid);
    const example = exampleConfig("Pulumi.backscope.yaml");
    const { outDir } = renderStack(
      dir(),
      "e2e-backscope",
      lab.config(example, {
        git: git.url,
        ref: "v1.0.0",
        frontend: { ...example.app.frontend, git: gitFront.url, ref: "v1.0.0" },
        pipIndexUrl: index.url,
        // psycopg2 from Debian, seen through the venv: user app keys over the preset's.
        aptPackages: ["python3-psycopg2"],
        systemSitePackages: true,
      }),
    );
    timings.backscopeBootToProvisionedMs = await lab.boot(join(dir(), "study-app"), join(outDir, "study-app", "user-data"), (h) => {
      // The test image pre-installs Debian's gunicorn for the small stack; a VM of this stack does not
      // have it, and with system site packages pip would take it as installed (no venv/bin/gunicorn).
      const r = spawnSync("dpkg", [`--root=${h.root}`, "--purge", "gunicorn", "python3-gunicorn"], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`dpkg --purge gunicorn in the host's root: ${r.stderr}`);
    });
  });

  afterAll(() => lab.down());

  test("cloud-init finished, every provisioning step passed, no unit failed", () => provisionedCleanly(lab));

  test("nginx serves frontscope's index.html at / and at a client-side route", () => {
    timings.backscopeBootToHttpsMs = Date.now() - lab.bootStartedAt;
    const index = readFileSync(join(STANDINS, "frontscope-dist-standin", "dist", "index.html"), "utf8");
    expect(lab.get("/")).toEqual({ code: "200", body: index });
    expect(lab.get("/explore/A000045")).toEqual({ code: "200", body: index });
  });

  test("/api/get_commit answers the deployed commit's short hash (GIT_REVISION_HASH), through gunicorn from the venv", () => {
    const commit = lab.get("/api/get_commit");
    expect([commit.code, JSON.parse(commit.body)]).toEqual(["200", { short_commit_hash: backscopeCommit }]);
    expect(lab.inside("cat /etc/scope/revision.env").stdout).toContain(`GIT_REVISION_HASH=${backscopeCommit}\n`);
    const pid = lab.inside("systemctl show -p MainPID --value scope.service").stdout.trim();
    expect(lab.inside(`ps -o args= -p ${pid}`).stdout).toMatch(
      /^\/srv\/scope\/venv\/bin\/python3? \/srv\/scope\/venv\/bin\/gunicorn --bind 127\.0\.0\.1:8000 wsgi:app/,
    );
    expect(lab.inside("/srv/scope/venv/bin/pip show gunicorn").stdout).toMatch(/^Location: \/srv\/scope\/venv\//m);
    expect(lab.inside("cat /var/log/scope/scope.log").stdout).toContain("Starting gunicorn 20.1.0");
  });

  test("APP_ENVIRONMENT=production reached the app from the .env in its checkout (not from the unit's env)", () => {
    const environment = lab.get("/api/environment");
    expect([environment.code, JSON.parse(environment.body)]).toEqual(["200", { APP_ENVIRONMENT: "production" }]);
    expect(lab.inside("cat /etc/scope/env").stdout).not.toContain("APP_ENVIRONMENT");
    expect(lab.inside("readlink /srv/scope/src/.env").stdout.trim()).toBe("/etc/scope/.env");
  });

  test("`flask db upgrade` made the table in PostgreSQL, in the database the .env names", () => {
    const db = lab.inside(". /etc/scope/env && echo $PGDATABASE").stdout.trim();
    expect(db).toBe("scope");
    const psql = (sql: string) => lab.inside(`runuser -u postgres -- psql -d ${db} -tAc "${sql}"`);
    expect(psql("SELECT version_num FROM alembic_version").stdout).toBe("0001_sequences_seen\n");
    expect(psql("SELECT tableowner FROM pg_tables WHERE tablename = 'sequences_seen'").stdout).toBe("scope\n");
    expect(lab.inside("cat /var/log/studyhost-provision.log /var/log/cloud-init-output.log").stdout).toContain(
      "flask stand-in: db upgrade applied 0001_sequences_seen",
    );
  });

  test("a write then a read through /api reaches PostgreSQL", () => {
    const written = lab.get("/api/write?body=A000045");
    expect([written.code, JSON.parse(written.body)]).toEqual(["200", "written"]);
    const read = lab.get("/api/read");
    expect([read.code, JSON.parse(read.body)]).toEqual(["200", ["A000045"]]);
    expect(lab.inside(`runuser -u postgres -- psql -d scope -tAc "SELECT body FROM sequences_seen"`).stdout).toBe("A000045\n");
  });

  test("from the internet only 80 and 443 are open: not gunicorn's 8000, not PostgreSQL's 5432", () => {
    const addr = lab.net.hosts[0].address;
    expect(tcpProbe(lab.net.internet.netns, addr, 443)).toMatch(/^open/);
    expect(tcpProbe(lab.net.internet.netns, addr, 8000)).toBe("timeout");
    expect(tcpProbe(lab.net.internet.netns, addr, 5432)).toBe("timeout");
    const redirect = fromInternet(lab.net, [
      "curl",
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--resolve",
      `${DOMAIN}:80:${addr}`,
      `http://${DOMAIN}/api/get_commit`,
    ]);
    expect(redirect.stdout).toBe("308");
  });
});
