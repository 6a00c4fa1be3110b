// The hosts' scripts and programs as they lie in src/host (the files src/host/document/template.ts
// reads), checked by their own tools before any host is rendered: shellcheck and bash -n (or sh -n)
// for shell, python's compiler for Python, node --check for the MongoDB shell's JavaScript,
// systemd-analyze verify for units, nginx -t for nginx's files, nft -c for the firewall's, postgres's own
// list of settings for PostgreSQL's. The same files after rendering, in whole
// hosts: test/host/host-static.test.ts. Needs Debian's shellcheck, python3, systemd, nginx, nftables,
// postgresql and openssl, and util-linux's unshare; no root.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fill } from "../../src/host/document/template";
import { writeSelfSigned } from "../support/certificates";

const HOST = join(__dirname, "..", "..", "src", "host");
const assets = readdirSync(HOST, { recursive: true, encoding: "utf8" })
  .filter((rel) => !rel.endsWith(".ts") && statSync(join(HOST, rel)).isFile())
  .sort();
const ofKind = (ext: string) => assets.filter((a) => a.endsWith(ext));

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
};

/** A shell asset's shell: its shebang's, or POSIX sh for a script run as `sh -c` (no shebang). */
function shellOf(asset: string): "bash" | "sh" {
  const first = readFileSync(join(HOST, asset), "utf8").split("\n")[0];
  if (first === "#!/bin/bash") return "bash";
  if (first.startsWith("#!")) throw new Error(`${asset}: unexpected shebang ${first}`);
  return "sh";
}

test("every asset is of a kind this file checks", () => {
  expect(assets.length).toBeGreaterThanOrEqual(11);
  expect(
    assets.filter(
      (a) => !/\.(sh|bash|py|sql|js|cnf|nft|service|timer|mount|part|logrotate)$/.test(a) && !NGINX.test(a) && !POSTGRESQL.test(a) && !(a in CONFIGS),
    ),
  ).toEqual([]);
});

/** Other programs' configuration files, by asset: each is checked by its program (the last test). */
const CONFIGS: Record<string, "sshd" | "fail2ban" | "systemd" | "apt"> = {
  "system/sshd.conf": "sshd",
  "system/fail2ban-jail.conf": "fail2ban",
  "system/journald.conf": "systemd",
  "system/apt-unattended.conf": "apt",
};

// nginx's files: everything .conf under web/ (snippets, sites, and the location blocks a site is built from).
const NGINX = /^web\/[^/]+\.conf$/;
// PostgreSQL's settings (postgresql.conf's syntax), under databases/.
const POSTGRESQL = /^databases\/postgresql[^/]*\.conf$/;

test("every shell script passes shellcheck and its shell's syntax check, as it lies in src/host", () => {
  for (const asset of ofKind(".sh")) {
    const shell = shellOf(asset);
    const file = join(HOST, asset);
    expect([asset, run("shellcheck", ["-s", shell, file])]).toEqual([asset, { status: 0, output: "" }]);
    expect([asset, run(shell === "bash" ? "bash" : "sh", ["-n", file])]).toEqual([asset, { status: 0, output: "" }]);
  }
});

test("every piece of a bash script (.bash: a provisioning step, a part repeated per site) passes shellcheck and bash -n", () => {
  for (const asset of ofKind(".bash")) {
    const file = join(HOST, asset);
    expect([asset, readFileSync(file, "utf8").startsWith("#!")]).toEqual([asset, false]);
    // SC2034 (assigned but unused) off: a piece sets variables the script around it reads.
    expect([asset, run("shellcheck", ["-s", "bash", "-e", "SC2034", file])]).toEqual([asset, { status: 0, output: "" }]);
    expect([asset, run("bash", ["-n", file])]).toEqual([asset, { status: 0, output: "" }]);
  }
});

test("every bash script starts with studyhost's header: its purpose, and set -Eeuo pipefail", () => {
  for (const asset of ofKind(".sh").filter((a) => shellOf(a) === "bash")) {
    const [, purpose, written, safety] = readFileSync(join(HOST, asset), "utf8").split("\n");
    expect([asset, purpose.startsWith("# "), written, safety]).toEqual([
      asset,
      true,
      "# Written by studyhost; edits are overwritten at the next provisioning.",
      "set -Eeuo pipefail",
    ]);
  }
});

test("every Python program compiles, and names the distribution's python3", () => {
  for (const asset of ofKind(".py")) {
    const file = join(HOST, asset);
    expect([asset, readFileSync(file, "utf8").split("\n")[0]]).toEqual([asset, "#!/usr/bin/python3"]);
    // compile() rather than py_compile: no __pycache__ written into src/.
    const r = run("python3", ["-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')", file]);
    expect([asset, r]).toEqual([asset, { status: 0, output: "" }]);
  }
});

test("the MongoDB shell's JavaScript parses", () => {
  for (const asset of ofKind(".js")) {
    expect([asset, run(process.execPath, ["--check", join(HOST, asset)])]).toEqual([asset, { status: 0, output: "" }]);
  }
});

test("the SQL is a psql script that stops at its first error (it runs for real in test/host/postgres.test.ts)", () => {
  expect(ofKind(".sql").length).toBeGreaterThan(0);
  for (const asset of ofKind(".sql")) expect([asset, readFileSync(join(HOST, asset), "utf8").split("\n")[0]]).toEqual([asset, "\\set ON_ERROR_STOP on"]);
});

/** Names of the @@PLACEHOLDERS@@ in TEXT. */
const placeholders = (text: string) => [...new Set([...text.matchAll(/@@([A-Z][A-Z0-9_]*)@@/g)].map((m) => m[1]))];

test("every unit is [Section], Key=Value and comment lines only (or a placeholder standing for whole lines)", () => {
  const units = assets.filter((a) => /\.(service|timer|mount)$/.test(a));
  expect(units.length).toBeGreaterThan(0);
  for (const unit of units) {
    const lines = readFileSync(join(HOST, unit), "utf8").replace(/\n$/, "").split("\n");
    const odd = lines.filter(
      (l) => !(l === "" || l.startsWith("#") || /^\[[A-Z][A-Za-z]*\]$/.test(l) || /^[A-Z][A-Za-z]*=/.test(l) || /^@@[A-Z][A-Z0-9_]*@@$/.test(l)),
    );
    expect([unit, odd]).toEqual([unit, []]);
    expect([unit, lines[0]]).toEqual([unit, "[Unit]"]);
  }
});

test("every unit fragment (.service.part, filled into a unit's [Service]) is Key=Value lines only", () => {
  const parts = assets.filter((a) => a.endsWith(".service.part"));
  expect(parts.length).toBeGreaterThan(0);
  for (const part of parts) {
    const odd = readFileSync(join(HOST, part), "utf8")
      .replace(/\n$/, "")
      .split("\n")
      .filter((l) => !/^[A-Z][A-Za-z]*=/.test(l) && !/^@@[A-Z][A-Z0-9_]*@@$/.test(l));
    expect([part, odd]).toEqual([part, []]);
  }
});

test("every logrotate file passes logrotate's own parser (--debug: reads, rotates nothing)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "studyhost-logrotate-assets-"));
  const files = assets.filter((a) => a.endsWith(".logrotate"));
  expect(files.length).toBeGreaterThan(0);
  for (const asset of files) {
    const config = join(scratch, "config");
    writeFileSync(config, readFileSync(join(HOST, asset), "utf8").replace(/@@[A-Z][A-Z0-9_]*@@/g, join(scratch, "logs")));
    const r = run("logrotate", ["--debug", "--state", join(scratch, "state"), config]);
    expect([asset, r.status, r.output.split("\n").filter((l) => /^error:/i.test(l))]).toEqual([asset, 0, []]);
  }
  rmSync(scratch, { recursive: true, force: true });
});

test("every unit with no placeholder passes systemd-analyze verify with no output (its programs stood in for)", () => {
  const root = mkdtempSync(join(tmpdir(), "studyhost-unit-assets-"));
  cpSync("/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
  const units = assets.filter((a) => /\.(service|timer|mount)$/.test(a) && placeholders(readFileSync(join(HOST, a), "utf8")).length === 0);
  for (const unit of units) {
    const text = readFileSync(join(HOST, unit), "utf8");
    const installed = join(root, "etc/systemd/system", unit.split("/").pop()!);
    mkdirSync(dirname(installed), { recursive: true });
    writeFileSync(installed, text);
    // The programs it runs are studyhost's own (installed beside it) or the distribution's: stood in for.
    for (const m of text.matchAll(/^Exec\w*=[-@:+!]*(\/\S+)/gm)) {
      if (existsSync(join(root, m[1]))) continue;
      mkdirSync(dirname(join(root, m[1])), { recursive: true });
      writeFileSync(join(root, m[1]), "#!/bin/sh\n");
      chmodSync(join(root, m[1]), 0o755);
    }
  }
  for (const unit of units) {
    const name = unit
      .split("/")
      .pop()!
      .replace(/@\.(service|timer)$/, "@check.$1");
    expect([unit, run("systemd-analyze", ["verify", `--root=${root}`, `/etc/systemd/system/${name}`])]).toEqual([unit, { status: 0, output: "" }]);
  }
  rmSync(root, { recursive: true, force: true });
});

test("every nginx file passes nginx -t, its placeholders given sample values (a site in http, the rest in a server)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "studyhost-nginx-assets-"));
  const certificate = join(scratch, "live/study.example.org");
  writeSelfSigned(certificate);
  // The snippets the sites include, where @@NGINX@@ says.
  mkdirSync(join(scratch, "nginx/snippets"), { recursive: true });
  for (const a of assets.filter((x) => NGINX.test(x) && x.startsWith("web/studyhost-") && placeholders(readFileSync(join(HOST, x), "utf8")).length === 0)) {
    cpSync(join(HOST, a), join(scratch, "nginx/snippets", a.split("/").pop()!));
  }
  const SAMPLES: Record<string, string> = {
    SITE: "study",
    SERVER_NAMES: "study.example.org www.study.example.org",
    WEBROOT: join(scratch, "webroot"),
    HOLDING: join(scratch, "holding"),
    CERTIFICATE: certificate,
    NGINX: join(scratch, "nginx"),
    MAX_BODY_MB: "10",
    LOGS: scratch,
    LOCATIONS: "  location ^~ /static/ { alias /srv/study/static/; }",
    ROOT: "  location / { return 200; }",
    PATH: "/admin/",
    ALLOW: "    allow 10.0.0.0/8;\n    allow 192.0.2.1;",
    UPSTREAM: "http://127.0.0.1:8000",
    URL_PATH: "/static/",
    DIR: "/srv/study/static/",
    MATCH: "^~ /api/",
  };
  const files = assets.filter((a) => NGINX.test(a));
  expect(files.length).toBeGreaterThan(0);
  for (const asset of files) {
    const text = readFileSync(join(HOST, asset), "utf8");
    const names = placeholders(text);
    expect([asset, names.filter((n) => !(n in SAMPLES))]).toEqual([asset, []]);
    const filled = join(scratch, asset.replace(/\//g, "-"));
    writeFileSync(filled, fill(text, Object.fromEntries(names.map((n) => [n, SAMPLES[n]])), asset));
    const site = /^server \{$/m.test(text);
    const conf = join(scratch, `nginx-${asset.replace(/\//g, "-")}`);
    const inner = site ? `  include ${filled};` : `  server {\n    listen 127.0.0.1:8080;\n    include ${filled};\n  }`;
    writeFileSync(conf, `pid ${scratch}/nginx.pid;\nerror_log ${scratch}/error.log;\nevents {}\nhttp {\n  include /etc/nginx/mime.types;\n${inner}\n}\n`);
    expect([asset, run("nginx", ["-t", "-q", "-c", conf])]).toEqual([asset, { status: 0, output: "" }]);
  }
  rmSync(scratch, { recursive: true, force: true });
});

test("every nftables file passes nft -c, its placeholders given sample values (a piece, a set or a chain, inside a table)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "studyhost-nft-assets-"));
  const SAMPLES: Record<string, string> = {
    SETS: "  set admin_v4 {\n    type ipv4_addr\n    flags interval\n    elements = { 192.0.2.0/24 }\n  }\n",
    RULES: "    ip saddr @admin_v4 tcp dport 22 accept\n    tcp dport { 80, 443 } accept",
    METADATA: "169.254.169.254",
    FORWARD: "\n  chain forward {\n    type filter hook forward priority filter; policy accept;\n  }\n",
    NAME: "admin_v4",
    TYPE: "ipv4_addr",
    ELEMENTS: "192.0.2.0/24, 198.51.100.7",
    BRIDGE: "studyhost0",
  };
  const files = ofKind(".nft");
  expect(files.length).toBeGreaterThan(0);
  for (const asset of files) {
    const text = readFileSync(join(HOST, asset), "utf8");
    const names = placeholders(text);
    expect([asset, names.filter((n) => !(n in SAMPLES))]).toEqual([asset, []]);
    const filled = fill(text, Object.fromEntries(names.map((n) => [n, SAMPLES[n]])), asset);
    const file = join(scratch, asset.replace(/\//g, "-"));
    // A whole ruleset starts with nft's shebang; a piece is read inside a table of its own.
    writeFileSync(file, text.startsWith("#!/usr/sbin/nft -f\n") ? filled : `table inet check {\n${filled}}\n`);
    // nft -c asks the kernel: in a user and network namespace of its own it needs no root, and sees none
    // of the machine's own tables.
    expect([asset, run("unshare", ["--user", "--map-root-user", "--net", "nft", "-c", "-f", file])]).toEqual([asset, { status: 0, output: "" }]);
  }
  rmSync(scratch, { recursive: true, force: true });
});

test("PostgreSQL's settings are `name = value` lines (or comments) naming settings its server knows", () => {
  const files = assets.filter((a) => POSTGRESQL.test(a));
  expect(files.length).toBeGreaterThan(0);
  const server = readdirSync("/usr/lib/postgresql")
    .sort((a, b) => Number(a) - Number(b))
    .pop()!;
  const known = new Set(
    execFileSync(`/usr/lib/postgresql/${server}/bin/postgres`, ["--describe-config"], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.split("\t")[0]),
  );
  for (const asset of files) {
    const lines = readFileSync(join(HOST, asset), "utf8").replace(/\n$/, "").split("\n");
    const odd = lines.filter((l) => !(l === "" || l.startsWith("#") || /^[a-z_]+ = ('[^']*'|[\w.@-]+)( +#.*)?$/.test(l)));
    expect([asset, odd]).toEqual([asset, []]);
    const unknown = lines.filter((l) => /^[a-z_]+ = /.test(l) && !known.has(l.split(" ")[0]));
    expect([asset, unknown]).toEqual([asset, []]);
  }
});

test("the other programs' configuration files: sshd -t, apt-config, an INI parser for fail2ban's jail, systemd's line shapes for journald", () => {
  const scratch = mkdtempSync(join(tmpdir(), "studyhost-config-assets-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(scratch, "host-key")]);
  for (const [asset, kind] of Object.entries(CONFIGS)) {
    const file = join(HOST, asset);
    const text = readFileSync(file, "utf8");
    expect([asset, placeholders(text)]).toEqual([asset, []]);
    if (kind === "sshd") expect([asset, run("sshd", ["-t", "-f", file, "-h", join(scratch, "host-key")])]).toEqual([asset, { status: 0, output: "" }]);
    if (kind === "apt") expect([asset, run("apt-config", ["-c", file, "dump"]).status]).toEqual([asset, 0]);
    if (kind === "fail2ban") {
      // fail2ban reads its jails with Python's configparser: a file it cannot parse, or no [sshd], fails here.
      const r = run("python3", [
        "-c",
        "import configparser, sys; c = configparser.ConfigParser(); c.read_file(open(sys.argv[1])); print(c['sshd']['enabled'])",
        file,
      ]);
      expect([asset, r]).toEqual([asset, { status: 0, output: "true" }]);
    }
    if (kind === "systemd") {
      const odd = text
        .replace(/\n$/, "")
        .split("\n")
        .filter((l) => !(l === "" || l.startsWith("#") || /^\[[A-Z][A-Za-z]*\]$/.test(l) || /^[A-Z][A-Za-z]*=\S/.test(l)));
      expect([asset, odd]).toEqual([asset, []]);
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

test("MariaDB's option files (.cnf) parse as the INI files MariaDB reads (a placeholder line is filled by the renderer)", () => {
  const cnfs = assets.filter((a) => a.endsWith(".cnf"));
  expect(cnfs.length).toBeGreaterThan(0);
  for (const asset of cnfs) {
    // Placeholders become a sample value first; allow_no_value: MariaDB takes bare options (skip-name-resolve).
    const text = readFileSync(join(HOST, asset), "utf8").replace(/@@[A-Z][A-Z0-9_]*@@/g, "/sample");
    // A fragment filled into a section of another file (mariadb-tls.cnf) is read inside one.
    const input = /^\s*(#.*\n|\n)*\[/.test(text) ? text : `[fragment]\n${text}`;
    const r = spawnSync(
      "python3",
      ["-c", "import configparser, sys; configparser.ConfigParser(allow_no_value=True, strict=True).read_string(sys.stdin.read())"],
      { input, encoding: "utf8" },
    );
    expect([asset, r.status, r.stderr]).toEqual([asset, 0, ""]);
  }
});
