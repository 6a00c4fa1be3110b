// The hosts with accessory databases (test/support/stacks/accessories.ts) through the real programs:
// every user data passes cloud-init's schema, every script shellcheck, every unit systemd-analyze verify,
// every host firewall nft -c (what they hold, read as files: test/accessories.test.ts).
// Needs root and Debian's shellcheck, cloud-init, nftables, systemd.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { removeRendered, renderHosts, RenderedHost, walk } from "../support/render";
import { accessoryStacks } from "../support/stacks/accessories";
import { verifyUnits } from "../support/verify";

let hosts: RenderedHost[] = [];
const file = (h: RenderedHost, path: string) => readFileSync(join(h.root, path), "utf8");
const runAll = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
};

beforeAll(async () => {
  hosts = await renderHosts(accessoryStacks());
}, 60_000);
afterAll(() => {
  removeRendered(hosts);
});

test("cloud-init schema, shellcheck and systemd-analyze verify pass on every host", () => {
  for (const h of hosts) {
    expect([h.label, runAll("cloud-init", ["schema", "--config-file", join(h.dir, "user-data")])]).toEqual([
      h.label,
      { status: 0, output: `Valid cloud-config: ${join(h.dir, "user-data")}` },
    ]);
    for (const rel of walk(h.root)) {
      if (/^#!\/bin\/(ba)?sh/.test(file(h, rel).split("\n")[0]))
        expect([h.label, rel, runAll("shellcheck", [join(h.root, rel)])]).toEqual([h.label, rel, { status: 0, output: "" }]);
    }
    for (const { unit, output } of verifyUnits(h)) expect([h.label, unit, output]).toEqual([h.label, unit, ""]);
  }
});

test("every host firewall passes nft -c, the two-server database host's (MariaDB beside PostgreSQL) included", () => {
  expect(hosts.map((h) => h.label)).toContain("two-server-both/study-db");
  for (const h of hosts) expect([h.label, runAll("nft", ["-c", "-f", join(h.root, "etc/nftables.conf")])]).toEqual([h.label, { status: 0, output: "" }]);
});
