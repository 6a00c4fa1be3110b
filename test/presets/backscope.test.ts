// The backscope preset against its guide, ../shared/seeds/004_d24a99bddaaa7dcf.txt: each assertion
// names the section it checks. The host is rendered from Pulumi.backscope.yaml as `plan --out` does.
import { AppHostView, configError, example, lineOf, renderAppHost } from "./support";

let large: AppHostView;
let twoServer: AppHostView;
beforeAll(async () => {
  large = await renderAppHost(example("backscope"));
  twoServer = await renderAppHost(example("backscope", { tier: "two-server" }), "aws");
}, 60_000);

const deploy = (h: AppHostView) => h.file("usr/local/sbin/studyhost-deploy-scope");
const dotenv = (h: AppHostView) => Object.fromEntries([...h.file("etc/scope/.env").matchAll(/^(\w+)="(.*)"$/gm)].map((m) => [m[1], m[2]]));

test("How backscope is set up: a checkout at the ref, owned by its own service user scope, in a venv", () => {
  const d = deploy(large);
  expect(d).toContain("runuser -u scope -- git clone --quiet 'https://github.com/numberscope/backscope.git' /srv/scope/src");
  expect(d).toContain("checkout --quiet --force 'v1.0.0'");
  expect(d).toMatch(/runuser -u scope -- python3 -m venv \/srv\/scope\/venv/);
  expect(d).toContain("pip install --quiet -r /srv/scope/src/requirements.txt");
});

test("How backscope is set up: .env in the checkout's root with APP_ENVIRONMENT=production and the database (doc/install-postgres.md's names)", () => {
  const env = dotenv(large);
  expect(env.APP_ENVIRONMENT).toBe("production");
  expect({ user: env.POSTGRES_USER, db: env.POSTGRES_DB }).toEqual({ user: "scope", db: "scope" });
  expect(env.POSTGRES_PASSWORD.length).toBeGreaterThan(10);
  expect(env.DATABASE_URI).toBe(`postgresql://scope:${env.POSTGRES_PASSWORD}@localhost:5432/scope`);
  expect(large.permissions("/etc/scope/.env")).toBe("0600");
  expect(deploy(large)).toContain("ln -sfn /etc/scope/.env '/srv/scope/src/.env'");
  // Two servers: the database host over the private network, with TLS.
  expect(dotenv(twoServer).DATABASE_URI).toMatch(/^postgresql:\/\/scope:[^@]+@10\.\d+\.\d+\.\d+:5432\/scope\?sslmode=require$/);
});

test("numberscope systemd commands / production.sh: gunicorn serving wsgi:app under systemd, with the deployed commit in GIT_REVISION_HASH", () => {
  const unit = large.file("etc/systemd/system/scope.service");
  expect(unit).toMatch(/^ExecStart=\/srv\/scope\/venv\/bin\/gunicorn --bind 127\.0\.0\.1:\$\{PORT\} wsgi:app$/m);
  expect(unit).toMatch(/^Restart=always$/m);
  expect(unit).toMatch(/^EnvironmentFile=-\/etc\/scope\/revision\.env$/m);
  expect(deploy(large)).toMatch(/GIT_REVISION_HASH=%s.*rev-parse --short HEAD.*> \/etc\/scope\/revision\.env/s);
});

test("Resetting the production database: the database UTF8 from template0; flask db upgrade on every deploy, before the restart", () => {
  const setup = large.file("etc/studyhost/postgresql/setup.sql");
  expect(setup).toContain("ENCODING %L LC_COLLATE %L LC_CTYPE %L TEMPLATE template0', :'db', :'app_role', 'UTF8'");
  const d = deploy(large);
  const upgrade = lineOf(d, /bash -c 'flask db upgrade'/);
  expect(upgrade).toBeGreaterThan(lineOf(d, /ln -sfn \/etc\/scope\/\.env/));
  expect(upgrade).toBeLessThan(lineOf(d, /^systemctl restart scope\.service$/));
});

test("How Nginx is set up: frontscope's built files at /, /api forwarded to backscope, the default site gone", () => {
  const site = large.file("etc/nginx/sites-available/studyhost-scope.conf");
  expect(site).toMatch(/location \^~ \/api \{\n\s+include .*studyhost-proxy\.conf;\n\s+proxy_pass http:\/\/127\.0\.0\.1:8000;/);
  expect(site).toMatch(/root \/srv\/scope\/frontend\/dist;\n\s+location \/ \{\n.*\n\s+try_files \$uri \$uri\/ \/index\.html;/);
  expect(deploy(large)).toContain("runuser -u scope -- git clone --quiet 'https://git.example.org/numberscope/frontscope-dist.git' /srv/scope/frontend");
  expect(large.file("usr/local/sbin/studyhost-provision")).toMatch(/rm -f \/etc\/nginx\/sites-enabled\/default/);
});

test("Updating the server: /api/get_commit is the health URL checked after provisioning", () => {
  expect(large.file("usr/local/sbin/studyhost-provision")).toContain("curl -fsS -o /dev/null http://127.0.0.1:8000/api/get_commit");
});

test("backscope needs PostgreSQL; a bad ref is a one-line error", () => {
  const base = example("backscope");
  expect(configError({ ...base, tier: "small", database: { engine: "sqlite" } })).toBe(
    "studyhost:database.engine: backscope needs PostgreSQL (seed 004); use engine: postgres",
  );
  expect(configError({ ...base, app: { preset: "backscope" } })).toBe(
    "studyhost:app.ref: missing; expected the tag, branch or commit to deploy (the backscope preset)",
  );
  expect(configError(base)).toBe("");
});
