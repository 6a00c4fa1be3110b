// Every rendered host, for every tier, cloud and app kind (test/support/stacks/matrix.ts), read as
// files: which scripts, units and firewall rules each host gets, and that provisioning runs and enables
// all of them. The same hosts through the real programs from Debian's packages (cloud-init's schema,
// shellcheck, systemd-analyze verify, nginx -t, nft -c, sshd -t, fail2ban, logrotate, python's
// compiler): test/host/host-static.test.ts.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fetchCommandOf } from "../src/clouds/hostFilesBundle";
import { presetExamples } from "./helpers";
import { removeRendered, renderHosts, RenderedHost, walk } from "./support/render";
import { hostMatrix } from "./support/stacks/matrix";

let hosts: RenderedHost[];
beforeAll(async () => {
  hosts = await renderHosts(hostMatrix());
}, 60000);

afterAll(() => {
  removeRendered(hosts);
});

test("the matrix covers every tier, both clouds, both app kinds and both host roles", () => {
  // Ten configurations (two with a database host) on each cloud, each preset's example on both, and
  // CamCOPS on two-server on both (two hosts each).
  expect(hosts.length).toBe(14 + 2 * Object.keys(presetExamples()).length + 4);
  expect(new Set(hosts.map((h) => h.host))).toEqual(new Set(["study-app", "study-db"]));
});

test("every shell script is executable, and every host has several", () => {
  let scripts = 0;
  for (const h of hosts) {
    for (const rel of walk(h.root)) {
      const file = join(h.root, rel);
      if (/^#!\/bin\/(ba)?sh/.test(readFileSync(file, "utf8").split("\n")[0])) {
        expect([h.label, rel, (statSync(file).mode & 0o111) !== 0]).toEqual([h.label, rel, true]);
        scripts++;
      }
    }
  }
  expect(scripts).toBeGreaterThan(hosts.length * 4);
});

test("every AWS host fetches its files from S3 with an inline script (bash -c in runcmd); no DigitalOcean host does", () => {
  for (const h of hosts) {
    const fetch = fetchCommandOf(readFileSync(join(h.dir, "user-data"), "utf8"));
    expect([h.label, fetch !== undefined]).toEqual([h.label, h.label.startsWith("aws-")]);
  }
});

test("the logs' mount units (studyhost:logsOnDataVolume) are rendered where the logs are on the data volume", () => {
  // On each cloud, the two-server-git app host's (journal, nginx, study) and database host's (journal),
  // and e-mission's (journal, nginx, emission).
  const mounts = hosts.flatMap((h) => readdirSync(join(h.root, "etc/systemd/system")).filter((u) => u.endsWith(".mount")));
  expect(mounts.length).toBe(2 * (3 + 1 + 3));
});

test("every host firewall opens only what the host serves", () => {
  for (const h of hosts) {
    const text = readFileSync(join(h.root, "etc/nftables.conf"), "utf8");
    expect(text.includes("tcp dport { 80, 443 } accept")).toBe(h.host === "study-app");
    // A database host opens each database it runs to the private network: CamCOPS's runs MariaDB only.
    const camcopsDb = h.host === "study-db" && h.label.includes("camcops");
    expect(text.includes("tcp dport 5432 accept")).toBe(h.host === "study-db" && !camcopsDb);
    expect(text.includes("tcp dport 3306 accept")).toBe(camcopsDb);
    expect(text).toContain("ip saddr @admin_v4 tcp dport 22 accept");
  }
});

test("the provisioning script runs every step it defines, and enables every timer and unit it is given", () => {
  for (const h of hosts) {
    const provision = readFileSync(join(h.root, "usr/local/sbin/studyhost-provision"), "utf8");
    const defined = [...provision.matchAll(/^step_([a-z0-9_]+)\(\) \{$/gm)].map((m) => m[1]);
    const loop = /^for current in ([a-z0-9 -]+); do$/m.exec(provision);
    expect(loop).not.toBeNull();
    const run = loop![1].split(" ").map((n) => n.replace(/[^a-z0-9]/g, "_"));
    expect([h.label, run]).toEqual([h.label, defined]);
    expect(run.slice(0, 2)).toEqual(["base", "host_firewall"]);
    expect(run[run.length - 1]).toBe("manifest");
    if (existsSync(join(h.root, "etc/studyhost/postgres-roles.env"))) expect(run).toContain("postgresql");
    if (existsSync(join(h.root, "etc/studyhost/backup.env")))
      expect(run.indexOf("backups")).toBeLessThan(run.indexOf(h.host === "study-db" ? "manifest" : "app"));
    // Every timer and every non-template service studyhost writes is enabled (or started) somewhere.
    const unitDir = join(h.root, "etc/systemd/system");
    for (const unit of readdirSync(unitDir).filter((u) => /\.(timer|service)$/.test(u) && !u.includes("@"))) {
      const scripts = walk(join(h.root, "usr/local/sbin"))
        .map((f) => readFileSync(join(h.root, "usr/local/sbin", f), "utf8"))
        .join("\n");
      const triggered = unit.endsWith(".service") && existsSync(join(unitDir, unit.replace(".service", ".timer")));
      if (!triggered)
        expect([h.label, unit, new RegExp(`systemctl (enable|start)( --now)? ${unit.replace(".", "\\.")}`).test(scripts)]).toEqual([h.label, unit, true]);
    }
  }
});

test("every host whose scripts source the backup library has it, and the retention rule beside it", () => {
  let sourcing = 0;
  for (const h of hosts) {
    const users = walk(h.root).filter(
      (rel) => rel.startsWith("/usr/local/sbin/") && readFileSync(join(h.root, rel), "utf8").includes("/usr/local/lib/studyhost/backup-lib.bash"),
    );
    if (users.length === 0) continue;
    sourcing++;
    expect([
      h.label,
      existsSync(join(h.root, "usr/local/lib/studyhost/backup-lib.bash")),
      existsSync(join(h.root, "usr/local/lib/studyhost/prune_backups.py")),
    ]).toEqual([h.label, true, true]);
  }
  expect(sourcing).toBeGreaterThan(10);
});
