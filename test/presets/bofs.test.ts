// The bofs preset against its guide, ../shared/seeds/000_bf5bb7d6266ac38a.txt: each assertion names
// the section it checks. The host is rendered from Pulumi.bofs.yaml exactly as `plan --out` does.
// production.toml as Python's own tomllib reads it: test/host/presets/bofs.test.ts.
import { AppHostView, configError, example, lineOf, renderAppHost } from "./support";

let small: AppHostView;
let large: AppHostView;
beforeAll(async () => {
  small = await renderAppHost(example("bofs"));
  large = await renderAppHost(example("bofs", { tier: "large", database: { engine: "postgres" } }), "aws");
}, 60_000);

const deploy = (h: AppHostView) => h.file("usr/local/sbin/studyhost-deploy-bofs");

test("Create Production Environment: BOFS from PyPI in its own venv; PostgreSQL Setup: psycopg2-binary only with PostgreSQL", () => {
  expect(deploy(small)).toMatch(/python3 -m venv \/srv\/bofs\/venv/);
  expect(deploy(small)).toContain("/srv/bofs/venv/bin/pip install --quiet 'bride-of-frankensystem'\n");
  expect(deploy(large)).toContain("/srv/bofs/venv/bin/pip install --quiet 'bride-of-frankensystem' 'psycopg2-binary'\n");
});

test("Install Your Experiment: the experiment's files from git at the configured ref", () => {
  expect(deploy(small)).toContain("git clone --quiet 'https://git.example.org/lab/my-experiment.git' /srv/bofs/src");
  expect(deploy(small)).toContain("checkout --quiet --force 'v1.0.0'");
});

test("Complete Production Configuration Example: production.toml, root-only as written, readable by the app's group, linked where BOFS looks (its values: test/host/presets/bofs.test.ts)", () => {
  // It holds secrets: root-only as written, then readable by the app's group only; linked where BOFS looks.
  expect(small.permissions("/etc/bofs/production.toml")).toBe("0600");
  expect(deploy(small)).toContain("chgrp bofs /etc/bofs/production.toml && chmod 0640 /etc/bofs/production.toml");
  expect(deploy(small)).toContain("ln -sfn /etc/bofs/production.toml '/srv/bofs/src/production.toml'");
});

test("System Requirements / SQLite vs Production Databases: PostgreSQL installed on large only, when the study leaves the engine to the preset (the database URIs: test/host/presets/bofs.test.ts)", async () => {
  const { database: _, ...unset } = example("bofs");
  const smallUnset = await renderAppHost(unset);
  expect(smallUnset.packages()).not.toContain("postgresql");
  const largeUnset = await renderAppHost({ ...unset, tier: "large" });
  expect(largeUnset.packages()).toContain("postgresql");
  expect(configError({ ...unset, database: { engine: "none" } })).toMatch(/^studyhost:database\.engine: BOFS keeps its data/);
}, 60_000);

test("Test Production Installation: --check-config runs before every (re)start", () => {
  const d = deploy(small);
  const check = lineOf(d, /python -m BOFS production\.toml --check-config/);
  expect(check).toBeGreaterThan(lineOf(d, /ln -sfn \/etc\/bofs\/production\.toml/));
  expect(check).toBeLessThan(lineOf(d, /^systemctl restart bofs\.service$/));
});

test("Process Management with systemd: python -m BOFS production.toml from the experiment's folder, Restart=always", () => {
  const unit = small.file("etc/systemd/system/bofs.service");
  expect(unit).toMatch(/^ExecStart=\/srv\/bofs\/venv\/bin\/python -m BOFS production\.toml$/m);
  expect(unit).toMatch(/^WorkingDirectory=\/srv\/bofs\/src$/m);
  expect(unit).toMatch(/^Restart=always$/m);
  expect(unit).toMatch(/^User=bofs$/m);
});

test("Reverse Proxy with Nginx: https only, /static from the experiment's folder, the proxy on BOFS's PORT", () => {
  const site = small.file("etc/nginx/sites-available/studyhost-bofs.conf");
  expect(site).toContain("location / { return 308 https://$host$request_uri; }");
  expect(site).toMatch(/location \^~ \/static\/ \{\n\s+alias \/srv\/bofs\/src\/static\/;/);
  expect(site).toContain("proxy_pass http://127.0.0.1:5000;");
});

test("IP Restriction: /admin only from studyhost:adminCidrs", () => {
  const site = small.file("etc/nginx/sites-available/studyhost-bofs.conf");
  expect(site).toMatch(/location \^~ \/admin \{\n\s+allow 203\.0\.113\.0\/24;\n\s+deny all;/);
});

test("Starting the Production Server: BOFS binds 0.0.0.0, so the host firewall must not open its port", () => {
  const nft = small.file("etc/nftables.conf");
  expect(nft).toContain("tcp dport { 80, 443 } accept");
  expect(nft).not.toMatch(/5000/);
});

test("bad preset options stop with one line naming the key", () => {
  const base = example("bofs");
  const app = base.app as Record<string, unknown>;
  expect(configError({ ...base, app: { ...app, experiment: undefined } })).toBe(
    "studyhost:app.experiment: missing; expected the experiment's own files (questionnaires, templates): { git: URL, ref: tag } (the bofs preset)",
  );
  expect(configError({ ...base, app: { ...app, version: "latest" } })).toBe(
    'studyhost:app.version: got "latest"; expected a version such as 2.1.0 (the bofs preset)',
  );
  expect(configError({ ...base, app: { ...app, settings: { SECRET_KEY: "x" } } })).toBe(
    "studyhost:app.settings.SECRET_KEY: SECRET_KEY is written by studyhost (generated or derived); leave it out of settings",
  );
  expect(configError({ ...base, app: { ...app, preset: "bofz" } })).toMatch(
    /^studyhost:app\.preset: got "bofz"; expected one of bofs, backscope, viewbovis(, [a-z]+)*$/,
  );
  // The user's own app keys override the preset's, and are checked like any app key.
  expect(configError({ ...base, app: { ...app, port: 80 } })).toMatch(/^studyhost:app\.port: got 80; port 80 is used by nginx/);
  expect(configError(base)).toBe("");
});
