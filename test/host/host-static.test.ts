// Every rendered host, for every tier, cloud and app kind (test/support/stacks/matrix.ts), checked
// with the real programs from Debian's packages: cloud-init's schema, shellcheck, systemd-analyze verify
// (our units, and the packages' units with our drop-ins; no output at all: it exits 0 on typos),
// nginx -t, nft -c, sshd -t, fail2ban's config test, logrotate, python's compiler. What the same hosts
// hold, read as files: test/host-static.test.ts.
// What the programs need that a host's packages would bring (systemd's own units, the app's
// gunicorn in its venv, docker) is stood in for inside a scratch root, and named below.
// Needs root (sshd -t reads /run/sshd) and Debian's cloud-init, shellcheck, systemd, nginx, nftables,
// openssh-server, fail2ban, logrotate, openssl and python3.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fetchCommandOf } from "../../src/clouds/hostFilesBundle";
import { DATA_VOLUME_SCRIPT } from "../../src/host";
import { presetExamples } from "../helpers";
import { removeRendered, renderHosts, RenderedHost, walk } from "../support/render";
import { hostMatrix } from "../support/stacks/matrix";
import { verifyUnits } from "../support/verify";
import { writeSelfSigned } from "../support/certificates";

let hosts: RenderedHost[];
beforeAll(async () => {
  hosts = await renderHosts(hostMatrix());
}, 60000);

afterAll(() => {
  removeRendered(hosts);
});

const run = (cmd: string, args: string[], input?: string) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", input });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
};

test("every user-data passes cloud-init's schema", () => {
  for (const h of hosts) {
    const r = run("cloud-init", ["schema", "--config-file", join(h.dir, "user-data")]);
    expect([h.label, r.status, r.output]).toEqual([h.label, 0, `Valid cloud-config: ${join(h.dir, "user-data")}`]);
  }
});

test("every script passes shellcheck, and every Python helper compiles", () => {
  const volume = run("shellcheck", ["-s", "sh", "-"], DATA_VOLUME_SCRIPT);
  expect(volume).toEqual({ status: 0, output: "" });
  let scripts = 0;
  for (const h of hosts) {
    for (const rel of walk(h.root)) {
      const file = join(h.root, rel);
      const first = readFileSync(file, "utf8").split("\n")[0];
      if (/^#!\/bin\/(ba)?sh/.test(first)) {
        expect([h.label, rel, run("shellcheck", [file])]).toEqual([h.label, rel, { status: 0, output: "" }]);
        expect(statSync(file).mode & 0o111).not.toBe(0);
        scripts++;
      } else if (first.startsWith("#!/usr/bin/python3")) {
        expect([h.label, rel, run("python3", ["-m", "py_compile", file])]).toEqual([h.label, rel, { status: 0, output: "" }]);
      }
    }
  }
  expect(scripts).toBeGreaterThan(hosts.length * 4);
});

test("the AWS user data's inline fetch script (bash -c in runcmd) passes shellcheck", () => {
  for (const h of hosts) {
    const fetch = fetchCommandOf(readFileSync(join(h.dir, "user-data"), "utf8"));
    // Every AWS host fetches its files from S3; no DigitalOcean host does.
    expect([h.label, fetch !== undefined]).toEqual([h.label, h.label.startsWith("aws-")]);
    if (fetch) expect([h.label, run("shellcheck", ["-"], fetch.script)]).toEqual([h.label, { status: 0, output: "" }]);
  }
});

test("every systemd unit passes systemd-analyze verify with no output, and so does every unit a drop-in changes, with it", () => {
  let units = 0;
  const dropIns = new Set<string>();
  for (const h of hosts) {
    for (const { unit, output } of verifyUnits(h)) {
      expect([h.label, unit, output]).toEqual([h.label, unit, ""]);
      if (unit.includes(" + ")) dropIns.add(unit);
      units++;
    }
  }
  expect(units).toBeGreaterThan(hosts.length * 3);
  // PostgreSQL's (a template: as an instance), certbot's (with an ACME CA bundle), MariaDB's (CamCOPS),
  // nginx's (its logs on the data volume).
  expect([...dropIns].sort()).toEqual([
    "certbot.service + certbot.service.d/",
    "mariadb.service + mariadb.service.d/",
    "nginx.service + nginx.service.d/",
    "postgresql@.service + postgresql@.service.d/",
  ]);
  // The logs' mount units (studyhost:logsOnDataVolume) are among the units verified: on each cloud, the
  // two-server-git app host's (journal, nginx, study) and database host's (journal), and e-mission's
  // (journal, nginx, emission).
  const mounts = hosts.flatMap((h) => readdirSync(join(h.root, "etc/systemd/system")).filter((u) => u.endsWith(".mount")));
  expect(mounts.length).toBe(2 * (3 + 1 + 3));
});

test("a mistake in a drop-in is reported (the check loads the drop-ins)", () => {
  const h = hosts.find((x) => existsSync(join(x.root, "etc/systemd/system/postgresql@.service.d/studyhost.conf")))!;
  const copy = { ...h, dir: `${h.dir}-broken-drop-in`, root: `${h.dir}-broken-drop-in/files` };
  cpSync(h.root, copy.root, { recursive: true });
  const dropIn = join(copy.root, "etc/systemd/system/postgresql@.service.d/studyhost.conf");
  writeFileSync(dropIn, readFileSync(dropIn, "utf8").replace("RequiresMountsFor=", "RequiresMountFor="));
  const verdict = verifyUnits(copy, (u) => u === "postgresql@.service")[0];
  expect(verdict.output).toContain("postgresql@.service.d/studyhost.conf:2: Unknown key 'RequiresMountFor' in section [Unit], ignoring.");
  rmSync(copy.dir, { recursive: true, force: true });
});

test("every nginx site passes nginx -t (paths moved under a scratch root, certificates self-signed)", () => {
  let sites = 0;
  for (const h of hosts.filter((x) => x.host === "study-app")) {
    const root = `${h.dir}-nginx-root`;
    cpSync(h.root, root, { recursive: true });
    const available = join(root, "etc/nginx/sites-available");
    const relocate = (text: string) => text.replace(/(?<=[\s'"])\/(etc\/nginx|etc\/letsencrypt|var\/www|var\/log\/nginx)\//g, `${root}/$1/`);
    for (const f of readdirSync(available)) writeFileSync(join(available, f), relocate(readFileSync(join(available, f), "utf8")));
    mkdirSync(join(root, "var/log/nginx"), { recursive: true });
    // A self-signed certificate wherever a site expects one (each site has its own).
    for (const f of readdirSync(available)) {
      for (const m of readFileSync(join(available, f), "utf8").matchAll(/ssl_certificate (\S+)\/fullchain\.pem;/g)) {
        if (existsSync(join(m[1], "fullchain.pem"))) continue;
        writeSelfSigned(m[1]);
      }
    }
    for (const site of readdirSync(available).filter((f) => f !== "studyhost-default.conf")) {
      const conf = join(root, `nginx-${site}`);
      writeFileSync(
        conf,
        `pid ${root}/nginx.pid;\nerror_log ${root}/error.log;\nevents {}\nhttp {\n  include /etc/nginx/mime.types;\n  include ${available}/studyhost-default.conf;\n  include ${available}/${site};\n}\n`,
      );
      const r = run("nginx", ["-t", "-q", "-c", conf]);
      expect([h.label, site, r]).toEqual([h.label, site, { status: 0, output: "" }]);
      sites++;
    }
    rmSync(root, { recursive: true, force: true });
  }
  // A holding and a full site per app: one app per host, but three (ViewBovis, its staging copy and
  // Auspice) on the ViewBovis example's, on each cloud.
  expect(sites).toBe(2 * hosts.filter((x) => x.host === "study-app").length + 2 * 2 * 2 * (presetExamples().viewbovis ? 1 : 0));
});

test("every host firewall passes nft -c", () => {
  for (const h of hosts) {
    const file = join(h.root, "etc/nftables.conf");
    expect([h.label, run("nft", ["-c", "-f", file])]).toEqual([h.label, { status: 0, output: "" }]);
  }
});

test("sshd accepts the drop-in, and fail2ban's test passes with the sshd jail on the journal", () => {
  const h = hosts[0];
  const dir = `${h.dir}-sshd`;
  mkdirSync(dir, { recursive: true });
  mkdirSync("/run/sshd", { recursive: true });
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "hostkey")]);
  writeFileSync(join(dir, "sshd_config"), `Include ${join(h.root, "etc/ssh/sshd_config.d/10-studyhost.conf")}\nHostKey ${join(dir, "hostkey")}\n`);
  expect(run("/usr/sbin/sshd", ["-t", "-f", join(dir, "sshd_config")])).toEqual({ status: 0, output: "" });
  const effective = run("/usr/sbin/sshd", ["-T", "-f", join(dir, "sshd_config")]).output;
  for (const line of [
    "permitrootlogin no",
    "passwordauthentication no",
    "maxauthtries 2",
    "allowtcpforwarding no",
    "x11forwarding no",
    "authenticationmethods publickey",
  ]) {
    expect(effective.split("\n")).toContain(line);
  }

  cpSync("/etc/fail2ban", join(dir, "fail2ban"), { recursive: true });
  cpSync(join(h.root, "etc/fail2ban/jail.d/studyhost.conf"), join(dir, "fail2ban/jail.d/studyhost.conf"));
  const f2b = run("fail2ban-client", ["-c", join(dir, "fail2ban"), "-t"]);
  expect(f2b.status).toBe(0);
  expect(f2b.output).toContain("OK: configuration test is successful");
  const dump = run("fail2ban-client", ["-c", join(dir, "fail2ban"), "-d"]).output;
  expect(dump).toContain("['add', 'sshd', 'systemd']");
  // Bans go through nftables (nothing installs iptables here: Debian's default action would fail).
  expect(dump).toContain("['set', 'sshd', 'addaction', 'nftables-multiport']");
  expect(dump).not.toMatch(/iptables/);
  expect(nftWithFail2banTable(h, dump, dir)).toEqual({ status: 0, output: "" });
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The host firewall loaded, then what fail2ban's sshd action does at start and on a ban (its own
 * commands from the dump, with `nft` recording them), then the firewall reloaded: `nft -c` checks the
 * whole sequence against the kernel without applying it. Both tables coexist, our reload keeps theirs.
 */
function nftWithFail2banTable(h: RenderedHost, dump: string, dir: string) {
  const action = dump.split("\n").find((l) => l.startsWith("['multi-set', 'sshd', 'action', 'nftables-multiport'"));
  const start = /\['actionstart', "((?:[^"\\]|\\.)*)"\]/.exec(action ?? "");
  const ban = /\['actionban', '([^']*)'\]/.exec(action ?? "");
  expect([start?.[1], ban?.[1]]).not.toContain(undefined);
  const unescape = (s: string) => JSON.parse(`"${s}"`) as string;
  const fill = (s: string) =>
    s
      .replace(/<addr_set>/g, "addr-set-sshd")
      .replace(/<addr_type>/g, "ipv4_addr")
      .replace(/<addr_family>/g, "ip")
      .replace(/<ip>/g, "192.0.2.7");
  const commands = join(dir, "f2b.nft");
  const recorder = `nft() { [ "$1" = -- ] && shift; echo "$*" >> ${commands}; }\n${fill(unescape(start![1]))}\n${fill(unescape(ban![1]))}\n`;
  expect(run("bash", ["-c", recorder])).toEqual({ status: 0, output: "" });
  const firewall = readFileSync(join(h.root, "etc/nftables.conf"), "utf8").replace(/^#!.*\n/, "");
  const f2b = readFileSync(commands, "utf8");
  expect(f2b).toContain("add table inet f2b-table");
  expect(f2b).toContain("add element inet f2b-table addr-set-sshd { 192.0.2.7 }");
  const all = join(dir, "all.nft");
  writeFileSync(all, `${firewall}\n${f2b}\n${firewall}\nadd element inet f2b-table addr-set-sshd { 192.0.2.8 }\n`);
  return run("nft", ["-c", "-f", all]);
}

test("logrotate accepts the app's rotation", () => {
  for (const h of hosts.filter((x) => x.host === "study-app")) {
    const dir = join(h.root, "etc/logrotate.d");
    for (const f of readdirSync(dir)) {
      const r = run("logrotate", ["--debug", "--state", `${h.dir}-logrotate.state`, join(dir, f)]);
      expect([h.label, f, r.status]).toEqual([h.label, f, 0]);
      expect(r.output).not.toMatch(/error/i);
    }
  }
});
