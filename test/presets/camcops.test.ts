// The camcops preset against its guide, ../shared/seeds/001_2ac58a816490de90.txt ("(MANUAL) Configuring
// the server"): each assertion names the section it checks. Rendered from Pulumi.camcops.yaml as
// `plan --out` does, on DigitalOcean and (the same study) on AWS. camcops.conf as Python's configparser
// (CamCOPS's own reader) reads it: test/host/presets/camcops.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AppHostView, configError, example, lineOf, renderAppHost, renderStudyHosts } from "./support";

let small: AppHostView;
let aws: AppHostView;
/** Two-server on DigitalOcean: the app host and the database host, where MariaDB runs. */
let twoApp: AppHostView;
let twoDb: AppHostView;
beforeAll(async () => {
  small = await renderAppHost(example("camcops"));
  aws = await renderAppHost(
    example("camcops", { tier: "large", database: { engine: "postgres" }, backups: { keepDaily: 10, keepWeekly: 8, keepMonthly: 12 } }),
    "aws",
  );
  const two = await renderStudyHosts(example("camcops", { tier: "two-server", backups: { keepDaily: 9, keepWeekly: 5, keepMonthly: 3 } }));
  twoApp = two.app;
  twoDb = two.db!;
}, 60_000);

const deploy = (h: AppHostView) => h.file("usr/local/sbin/studyhost-deploy-camcops");
const unit = (h: AppHostView) => h.file("etc/systemd/system/camcops.service");
const envOf = (h: AppHostView, path: string) => Object.fromEntries([...h.file(path).matchAll(/^(\w+)="(.*)"$/gm)].map((m) => [m[1], m[2]]));

test("Data flow: camcops_server, pinned, from PyPI in the CamCOPS virtual environment, with PyMySQL for DB_URL", () => {
  expect(deploy(small)).toContain("runuser -u camcops -- python3 -m venv /srv/camcops/venv");
  expect(deploy(small)).toContain("/srv/camcops/venv/bin/pip install --quiet 'camcops_server==2.4.22'\n");
  expect(deploy(small)).toContain("/srv/camcops/venv/bin/pip install --quiet 'pymysql'\n");
});

test("Create/edit a CamCOPS config file: /etc/camcops/camcops.conf, readable by the service's user only", () => {
  // "Web server user only": root-only as written, then root:camcops 0640 before anything reads it.
  expect(small.permissions("/etc/camcops/camcops.conf")).toBe("0600");
  const d = deploy(small);
  expect(lineOf(d, /^chgrp camcops \/etc\/camcops\/camcops\.conf && chmod 0640 \/etc\/camcops\/camcops\.conf$/)).toBeGreaterThan(-1);
  expect(lineOf(d, /chmod 0640 \/etc\/camcops\/camcops\.conf/)).toBeLessThan(lineOf(d, /upgrade_db/));
});

test("Create a database: MariaDB (for the guide's MySQL) through PyMySQL, its app user on its database only, a read-only analyst user", () => {
  const users = envOf(small, "etc/studyhost/mariadb.env");
  expect(users).toMatchObject({ DATABASE: "camcops", APP_USER: "camcops", ANALYST_USER: "camcops_analyst", APP_UNIT: "camcops.service" });
  const sql = small.file("usr/local/sbin/studyhost-mariadb-users");
  expect(sql).toContain('account "$APP_USER" "$APP_PASSWORD" "ALL PRIVILEGES" "$host"');
  expect(sql).toContain('account "$ANALYST_USER" "$ANALYST_PASSWORD" SELECT "$host"');
  expect(users.CLIENT_HOST).toBeUndefined();
  // On the app host on the large tier too (PostgreSQL there only because that study asked for it).
  expect(envOf(aws, "etc/camcops/env").MARIADB_URL).toMatch(/^mysql\+pymysql:\/\/camcops:/);
  // CamCOPS uses no other database: without studyhost:database, no PostgreSQL runs and no DATABASE_URL is set.
  expect(small.packages()).not.toContain("postgresql");
  expect(envOf(small, "etc/camcops/env").DATABASE_URL).toBeUndefined();
  expect(aws.packages()).toContain("postgresql");
});

test("Create a database, on two-server: MariaDB on the database host, the app user from the private network over TLS, no PostgreSQL", () => {
  // The database host runs MariaDB (no PostgreSQL: CamCOPS uses none); the app host only its client.
  expect(twoDb.packages()).toEqual(expect.arrayContaining(["mariadb-server", "openssl"]));
  expect(twoDb.packages()).not.toContain("postgresql");
  expect(twoApp.packages()).not.toContain("mariadb-server");
  expect(twoApp.packages()).toContain("mariadb-client");
  expect(() => twoApp.file("usr/local/sbin/studyhost-mariadb-datadir")).toThrow(/ENOENT/);
  // The app user exists for the private network (DigitalOcean's 10.116.0.0/20), REQUIRE SSL; the analyst stays local.
  const users = envOf(twoDb, "etc/studyhost/mariadb.env");
  expect(users).toMatchObject({
    DATABASE: "camcops",
    APP_USER: "camcops",
    ANALYST_USER: "camcops_analyst",
    CLIENT_HOST: "10.116.0.0/255.255.240.0",
    APP_UNIT: "",
  });
  expect(twoDb.file("usr/local/sbin/studyhost-mariadb-users")).toContain('account "$APP_USER" "$APP_PASSWORD" "ALL PRIVILEGES" "$CLIENT_HOST" "REQUIRE SSL"');
  // TLS with the certificate made on the host; the private address (found at boot) beside 127.0.0.1.
  const cnf = twoDb.file("etc/studyhost/mariadb/studyhost.cnf");
  expect(cnf).toMatch(/^ssl_cert = \/etc\/mysql\/studyhost-tls\/server-cert\.pem$/m);
  expect(cnf).toMatch(/^bind-address = 127\.0\.0\.1$/m);
  expect(twoDb.file("etc/studyhost/mariadb/listen-cidr")).toBe("10.116.0.0/20\n");
  // The same password on both sides; the app host waits for the app user's TLS login before upgrade_db.
  expect(twoApp.permissions("/etc/studyhost/mariadb-client.cnf")).toBe("0600");
  const client = twoApp.file("etc/studyhost/mariadb-client.cnf");
  expect(client).toContain(`password = "${users.APP_PASSWORD}"`);
  expect(client).toMatch(/^ssl$/m);
  // The app's install (upgrade_db) needs that wait: it is skipped, not run against no database, when MariaDB never answers.
  expect(twoApp.file("usr/local/sbin/studyhost-provision")).toMatch(/^    app\) echo mariadb-wait ;;$/m);
  const manifest = JSON.parse(twoApp.file("etc/studyhost/manifest.rendered.json"));
  expect(manifest.database).toEqual({ engine: "none" });
  expect(manifest.accessories.mariadb).toMatchObject({ where: "database host", tls: true });
});

test("Create the database structure: upgrade_db as the service's user before every (re)start", () => {
  const d = deploy(small);
  const upgrade = lineOf(d, /runuser -u camcops -- .*'camcops_server upgrade_db --config \/etc\/camcops\/camcops\.conf'\)$/);
  expect(upgrade).toBeGreaterThan(-1);
  // Not in the run-once setup block: every deploy, before the restart.
  expect(upgrade).toBeGreaterThan(lineOf(d, /touch \/var\/lib\/studyhost\/camcops\/\.studyhost-setup-done/));
  expect(upgrade).toBeLessThan(lineOf(d, /^systemctl restart camcops\.service$/));
});

test("Create a superuser: not run automatically (make_superuser asks at the terminal); README gives the command", () => {
  expect(deploy(small)).not.toMatch(/make_superuser/);
  const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
  expect(readme).toContain("sudo -u camcops /srv/camcops/venv/bin/camcops_server make_superuser --config /etc/camcops/camcops.conf");
});

test("Start CamCOPS: serve_gunicorn under systemd (for Supervisor), restarted, logged; HOST 127.0.0.1 and PORT from the app's port", () => {
  expect(unit(small)).toMatch(/^ExecStart=\/srv\/camcops\/venv\/bin\/camcops_server serve_gunicorn --config \/etc\/camcops\/camcops\.conf$/m);
  expect(unit(small)).toMatch(/^Restart=always$/m);
  expect(unit(small)).toMatch(/^User=camcops$/m);
  expect(unit(small)).toMatch(/^StandardOutput=append:\/var\/log\/camcops\/camcops\.log$/m);
  // TRUSTED_PROXY_HEADERS (camcops.conf) names exactly the headers studyhost's nginx sets.
  const proxy = small.file("etc/nginx/snippets/studyhost-proxy.conf");
  for (const h of ["X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP"]) expect(proxy).toContain(`proxy_set_header ${h} `);
});

test("Plan where to put files: config in /etc/camcops, code in the venv under /srv, logs in /var/log/camcops, lock / download / matplotlib folders on the data volume", () => {
  // "Notes on supervisor": MPLCONFIGDIR, matplotlib's cache.
  expect(envOf(small, "etc/camcops/env").MPLCONFIGDIR).toBe("/var/lib/studyhost/camcops/matplotlib");
  expect(deploy(small)).toContain(
    "bash -c 'mkdir -p /var/lib/studyhost/camcops/lock /var/lib/studyhost/camcops/downloads /var/lib/studyhost/camcops/matplotlib'",
  );
  // The only writable places of the sandboxed unit are the data-volume folder and the log folder.
  expect(unit(small)).toMatch(/^ProtectSystem=strict$/m);
  expect(unit(small)).toMatch(/^ReadWritePaths=\/var\/lib\/studyhost\/camcops \/var\/log\/camcops$/m);
  expect(unit(small)).toMatch(/^WorkingDirectory=\/var\/lib\/studyhost\/camcops$/m);
  expect(small.file("etc/logrotate.d/camcops")).toMatch(/^\/var\/log\/camcops\/\*\.log \{/);
});

test("Overview / Configure your firewall / Browse to the web site: HTTPS only; plain HTTP redirected, the app's port closed", () => {
  for (const h of [small, aws, twoApp]) {
    const site = h.file("etc/nginx/sites-available/studyhost-camcops.conf");
    expect(site).toContain("location / { return 308 https://$host$request_uri; }");
    expect(site).toContain("proxy_pass http://127.0.0.1:8000;");
    const nft = h.file("etc/nftables.conf");
    expect(nft).toContain("tcp dport { 80, 443 } accept");
    expect(nft).not.toMatch(/8000|3306/);
  }
  // On two-server, MariaDB's port opens on the database host to the private network only (nothing else but SSH).
  const dbNft = twoDb.file("etc/nftables.conf");
  expect(dbNft).toMatch(/set mariadb_clients_v4 \{\n\s+type ipv4_addr\n\s+flags interval\n\s+elements = \{ 10\.116\.0\.0\/20 \}/);
  expect(dbNft).toContain("ip saddr @mariadb_clients_v4 tcp dport 3306 accept");
  expect(dbNft.match(/dport/g)).toHaveLength(2); // ssh from the admin network, and 3306
  expect(dbNft).not.toMatch(/5432|dport \{ 80, 443 \}/);
  // Tablets upload from anywhere: nothing is restricted to adminCidrs.
  expect(small.file("etc/nginx/sites-available/studyhost-camcops.conf")).not.toMatch(/deny all;/);
});

test("Configure backups: MariaDB dumped by the nightly backup, pruned daily / weekly / monthly with the study's retention", () => {
  // Beside PostgreSQL on its timer (large, as that study asked), on a timer of its own without it
  // (small), and where MariaDB runs on two-server: the database host.
  const unitOf = { small: "studyhost-accessories-backup", aws: "studyhost-backup", twoDb: "studyhost-accessories-backup" };
  for (const [h, unitName, keep] of [
    [small, unitOf.small, ["7", "4", "6"]],
    [aws, unitOf.aws, ["10", "8", "12"]],
    [twoDb, unitOf.twoDb, ["9", "5", "3"]],
  ] as const) {
    expect(h.file(`etc/systemd/system/${unitName}.service`)).toMatch(
      /^ExecStart=\/usr\/local\/sbin\/studyhost-backup-each .*"\/usr\/local\/sbin\/studyhost-backup-mariadb"$/m,
    );
    expect(h.file(`etc/systemd/system/${unitName}.timer`)).toMatch(/^OnCalendar=\*-\*-\* 03:15:00$/m);
    expect(envOf(h, "etc/studyhost/mariadb.env")).toMatchObject({
      BACKUP_DIR: "/var/lib/studyhost/backups/mariadb",
      KEEP_DAILY: keep[0],
      KEEP_WEEKLY: keep[1],
      KEEP_MONTHLY: keep[2],
    });
  }
  // The two-server app host holds no database, so it backs up nothing.
  expect(() => twoApp.file("etc/systemd/system/studyhost-accessories-backup.service")).toThrow(/ENOENT/);
  expect(() => twoApp.file("etc/systemd/system/studyhost-backup.service")).toThrow(/ENOENT/);
  // The dump is kept through the backup library, which prunes by those settings.
  expect(small.file("usr/local/sbin/studyhost-backup-mariadb")).toContain('. "${STUDYHOST_BACKUP_LIB:-/usr/local/lib/studyhost/backup-lib.bash}"');
  expect(small.file("usr/local/sbin/studyhost-backup-mariadb")).toMatch(/^backup_keep "\$partial" "\$final"$/m);
  expect(small.file("usr/local/lib/studyhost/backup-lib.bash")).toContain(
    '"$BACKUP_DIR" --daily "$KEEP_DAILY" --weekly "$KEEP_WEEKLY" --monthly "$KEEP_MONTHLY"',
  );
});

test("bad options stop with one line naming the key", () => {
  const base = example("camcops");
  const app = base.app as Record<string, unknown>;
  expect(configError({ ...base, app: { ...app, version: undefined } })).toBe(
    "studyhost:app.version: missing; expected the camcops_server version from PyPI, e.g. 2.4.22 (required: upgrade_db runs before every start, so the version decides the schema) (the camcops preset)",
  );
  expect(configError({ ...base, app: { ...app, version: "latest" } })).toBe(
    'studyhost:app.version: got "latest"; expected a version such as 2.4.22 (the camcops preset)',
  );
  expect(configError({ ...base, app: { ...app, settings: { site: { DB_URL: "sqlite://" } } } })).toBe(
    "studyhost:app.settings.site.DB_URL: DB_URL is written by studyhost (generated or derived); leave it out of settings",
  );
  expect(configError({ ...base, app: { ...app, settings: { server: { port: 9000 } } } })).toBe(
    "studyhost:app.settings.server.port: port is written by studyhost (generated or derived); leave it out of settings",
  );
  expect(configError({ ...base, app: { ...app, settings: { site: { LANGUAGE: "en_GB\n[x]" } } } })).toBe(
    "studyhost:app.configFiles.0.content.site.LANGUAGE: got a value of 9 characters (not shown); expected a string (one line, no %, no spaces at either end), a number, a boolean or a list of such strings",
  );
  // Two-server is a valid CamCOPS study now (MariaDB on the database host), with or without PostgreSQL beside it.
  expect(configError({ ...base, tier: "two-server" })).toBe("");
  expect(configError({ ...base, tier: "two-server", database: { engine: "postgres" } })).toBe("");
  expect(configError({ ...base, app: { ...app, preset: "camcop" } })).toMatch(/^studyhost:app\.preset: got "camcop"; expected one of .*camcops/);
  // A staging copy would get camcops.conf with ${MARIADB_URL} unreplaced: accessories serve the primary app only.
  expect(configError({ ...base, staging: { domain: "test.camcops.example.org" } })).toBe(
    'studyhost:staging: got {"domain":"test.camcops.example.org"}; the staging copy shares studyhost:app.configFiles, which name ${MARIADB_URL}, but accessories serve the primary app only: leave staging out for this app',
  );
  // studyhost's SQLite file would never be made, and its nightly backup would fail every night.
  expect(configError({ ...base, database: { engine: "sqlite" } })).toBe(
    "studyhost:database.engine: camcops keeps its data in MariaDB (seed 001) and never creates studyhost's SQLite file: use none (the preset's default) or postgres",
  );
  expect(configError(base)).toBe("");
});

test("a study's own database keys keep the preset's engine none (the defaults merge key by key)", async () => {
  const named = await renderAppHost(example("camcops", { database: { name: "cognition" } }));
  expect(named.packages()).not.toContain("postgresql");
  expect(JSON.parse(named.file("etc/studyhost/manifest.rendered.json")).database).toEqual({ engine: "none" });
});
