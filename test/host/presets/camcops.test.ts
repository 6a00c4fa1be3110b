// The camcops preset against its guide, ../shared/seeds/001_2ac58a816490de90.txt ("(MANUAL) Configuring
// the server"): camcops.conf as Python's configparser (CamCOPS's own reader) reads it, rendered from
// Pulumi.camcops.yaml as `plan --out` does, small and two-server on DigitalOcean. Each assertion names
// the section it checks; everything else of the preset: test/presets/camcops.test.ts. Needs Debian's python3.
import { spawnSync } from "node:child_process";
import { AppHostView, example, renderAppHost, renderStudyHosts } from "../../presets/support";

let small: AppHostView;
/** Two-server on DigitalOcean: the app host and the database host, where MariaDB runs. */
let twoApp: AppHostView;
let twoDb: AppHostView;
beforeAll(async () => {
  small = await renderAppHost(example("camcops"));
  const two = await renderStudyHosts(example("camcops", { tier: "two-server", backups: { keepDaily: 9, keepWeekly: 5, keepMonthly: 3 } }));
  twoApp = two.app;
  twoDb = two.db!;
}, 60_000);

const envOf = (h: AppHostView, path: string) => Object.fromEntries([...h.file(path).matchAll(/^(\w+)="(.*)"$/gm)].map((m) => [m[1], m[2]]));

/** camcops.conf as Python's configparser reads it (CamCOPS's own reader; keys come back lower-case). */
function confAsPython(h: AppHostView): Record<string, Record<string, string>> {
  const py =
    "import configparser, json, sys; c = configparser.ConfigParser(); c.read_string(sys.stdin.read()); print(json.dumps({s: dict(c[s]) for s in c.sections()}))";
  const r = spawnSync("/usr/bin/python3", ["-c", py], { input: h.file("etc/camcops/camcops.conf"), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`configparser refused camcops.conf: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test("Create/edit a CamCOPS config file: /etc/camcops/camcops.conf in configparser's format", () => {
  const conf = confAsPython(small);
  expect(Object.keys(conf)).toEqual(["site", "server", "export"]);
  // SESSION_COOKIE_SECRET: random and secret, the app's generated SECRET_KEY.
  expect(conf.site.session_cookie_secret).toBe(envOf(small, "etc/camcops/env").SECRET_KEY);
  expect(conf.site.allow_insecure_cookies).toBe("false");
  expect(conf.site).toMatchObject({ local_institution_url: "https://www.example.org/", language: "en_GB", session_timeout_minutes: "30" });
  expect(conf.site.extra_string_files).toBe("/srv/camcops/venv/lib/python3*/site-packages/camcops_server/extra_strings/*.xml");
});

test("Create a database: DB_URL is MariaDB (for the guide's MySQL) through PyMySQL", () => {
  const conf = confAsPython(small);
  expect(conf.site.db_url).toBe(envOf(small, "etc/camcops/env").MARIADB_URL);
  expect(conf.site.db_url).toMatch(/^mysql\+pymysql:\/\/camcops:[A-Za-z0-9-]+@127\.0\.0\.1:3306\/camcops\?charset=utf8mb4$/);
});

test("Create a database, on two-server: DB_URL names the database host's private address, asks PyMySQL for TLS, with the app user's password", () => {
  // The app's URL names the database host's private address and asks PyMySQL for TLS.
  const conf = confAsPython(twoApp);
  expect(conf.site.db_url).toBe(envOf(twoApp, "etc/camcops/env").MARIADB_URL);
  expect(conf.site.db_url).toMatch(/^mysql\+pymysql:\/\/camcops:[A-Za-z0-9-]+@10\.116\.0\.\d+:3306\/camcops\?charset=utf8mb4&ssl_check_hostname=false$/);
  // The same password on both sides.
  const users = envOf(twoDb, "etc/studyhost/mariadb.env");
  expect(conf.site.db_url).toContain(`camcops:${users.APP_PASSWORD}@`);
});

test("Start CamCOPS: HOST 127.0.0.1 and PORT from the app's port; TRUSTED_PROXY_HEADERS exactly the headers studyhost's nginx sets", () => {
  const server = confAsPython(small).server;
  expect(server).toMatchObject({ host: "127.0.0.1", port: "8000", debug_toolbar: "false" });
  expect(server.unix_domain_socket).toBeUndefined();
  expect(server.ssl_certificate).toBeUndefined();
  // TRUSTED_PROXY_HEADERS: exactly the headers studyhost's nginx sets.
  expect(server.trusted_proxy_headers.split("\n").filter(Boolean)).toEqual(["HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP"]);
  const proxy = small.file("etc/nginx/snippets/studyhost-proxy.conf");
  for (const h of ["X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP"]) expect(proxy).toContain(`proxy_set_header ${h} `);
});

test("Plan where to put files: lock / download folders on the data volume", () => {
  const conf = confAsPython(small);
  expect(conf.export.export_lockdir).toBe("/var/lib/studyhost/camcops/lock");
  expect(conf.export.celery_beat_schedule_database).toBe("/var/lib/studyhost/camcops/celerybeat_schedule");
  expect(conf.site.user_download_dir).toBe("/var/lib/studyhost/camcops/downloads");
});
