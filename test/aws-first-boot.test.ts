// What booting an AWS host end to end (test/e2e/aws-boot.e2e.ts) showed about its first boot, where
// the files arrive in runcmd (cloud-init's final stage), not in write_files:
// - the fetch hands them to cloud-init's write_files module, and where `--file` goes changed in
//   cloud-init 24.1: before, an option of `cloud-init` itself only (Debian 12's 22.4); since, of each
//   subcommand only (Ubuntu 24.04's; Debian 13's 25.1.4: `cloud-init --file F single` exits 2 "invalid
//   choice"). The rendered shell must take the form the host's cloud-init parses: here two stand-in
//   `cloud-init` commands that accept exactly one form each (their `single --help` as the real ones print it);
// - fail2ban's jail arrives after its boot-time start.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchCommandOf, splitHostFiles, WRITE_FILES_SHELL } from "../src/clouds/hostFilesBundle";
import { basePart } from "../src/host/system/base";

const HELP = {
  "22.4":
    "usage: cloud-init single [-h] --name NAME [--frequency {instance,always,once}]\n                         [--report]\n                         [argument ...]\n",
  "25.1":
    "usage: cloud-init single [-h] --name NAME [--frequency {instance,always,once}]\n                         [--report] [--file FILES]\n                         [argument ...]\n",
};

/** A stand-in cloud-init that records its arguments and, like argparse, exits 2 on the other form. */
function fakeCloudInit(dir: string, version: keyof typeof HELP): string {
  const bin = join(dir, version);
  mkdirSync(bin, { recursive: true });
  const accepted = version === "22.4" ? `--file F single --name write_files --frequency always` : `single --file F --name write_files --frequency always`;
  writeFileSync(
    join(bin, "cloud-init"),
    `#!/bin/bash
if [ "$*" = "single --help" ]; then printf '%s' '${HELP[version]}'; exit 0; fi
echo "$*" >> "${join(dir, version)}.calls"
[ "\${*//\\/run\\/studyhost\\/host-files.yaml/F}" = "${accepted}" ] || { echo "cloud-init: error: unrecognized arguments" >&2; exit 2; }
`,
  );
  chmodSync(join(bin, "cloud-init"), 0o755);
  return bin;
}

test.each(["22.4", "25.1"] as const)("the files are handed to cloud-init %s in the form it parses", (version) => {
  const dir = mkdtempSync(join(tmpdir(), "studyhost-cloud-init-cli-"));
  const bin = fakeCloudInit(dir, version);
  const r = spawnSync("bash", ["-c", `set -Eeuo pipefail\nf() {\n${WRITE_FILES_SHELL}\n}\nf /run/studyhost/host-files.yaml`], {
    encoding: "utf8",
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir },
  });
  expect([r.status, r.stderr]).toEqual([0, ""]);
  expect(
    readFileSync(`${join(dir, version)}.calls`, "utf8")
      .trim()
      .split("\n"),
  ).toHaveLength(1);
});

test("the rendered fetch script uses it (not a fixed `cloud-init --file F single`)", () => {
  const { userData } = splitHostFiles("#cloud-config\nwrite_files:\n  - path: /etc/x\n    content: x\n", { bucket: "b", region: "eu-west-2" });
  const { script } = fetchCommandOf(userData)!;
  expect(script).toContain(WRITE_FILES_SHELL);
  expect(script.replace(WRITE_FILES_SHELL, "")).not.toMatch(/cloud-init --file/);
});

// Found by booting an AWS host end to end (test/e2e/aws-boot.e2e.ts): its jail arrives in runcmd, after
// fail2ban's boot-time start failed on Debian's default jail; the provisioning's first start of
// fail2ban then raced a `reload` right after it ("Reload failed for fail2ban.service").
test("the base step restarts fail2ban with studyhost's jail, never reloads it right after starting it", () => {
  const script = basePart({ memoryGb: 1, adminUser: "studyadmin" }).steps![0].script;
  expect(script).toContain("systemctl restart fail2ban.service");
  expect(script).not.toMatch(/enable --now fail2ban[^\n]*\n[^\n]*reload/);
  expect(script).not.toMatch(/reload(-or-restart)? fail2ban/);
});
