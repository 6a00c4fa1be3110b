// The data-volume script for real: a loop device stands in for the cloud volume, a private mount
// namespace and a scratch /etc/fstab keep the machine's own untouched. Then the provisioning steps
// that write on the volume, without it. Needs root (CI runs as root) and shellcheck (installed by .ci/run).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DATA_VOLUME_SCRIPT } from "../../src/host";
import { studyConfig } from "../helpers";
import { renderHosts } from "../support/render";

let dir: string;
let device: string;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("test/host/volume.test.ts needs root (losetup, mount): run it as CI does, as root");
  dir = mkdtempSync(join(tmpdir(), "studyhost-volume-"));
  execFileSync("truncate", ["-s", "64M", join(dir, "volume.img")]);
  device = execFileSync("losetup", ["--find", "--show", join(dir, "volume.img")], { encoding: "utf8" }).trim();
  writeFileSync(join(dir, "fstab"), "# a machine's own fstab line that must survive\nproc /proc proc defaults 0 0\n");
});

afterAll(() => {
  if (device) spawnSync("losetup", ["-d", device]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run the script, then `then` (shell), inside a private mount namespace with the scratch fstab. */
function boot(then: string) {
  const mnt = join(dir, "mnt");
  const inner = `mount --bind "$0" /etc/fstab && sh -c "$1" studyhost-data-volume "$2" "$3" && ${then}`;
  return spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", inner, join(dir, "fstab"), DATA_VOLUME_SCRIPT, device, mnt], {
    encoding: "utf8",
  });
}

test("passes shellcheck as POSIX sh", () => {
  const r = spawnSync("shellcheck", ["-s", "sh", "-"], { input: DATA_VOLUME_SCRIPT, encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});

test("first boot formats the empty volume and mounts it by UUID; the next boot keeps its data", () => {
  const first = boot(`echo participant-data > "$3/kept.txt"`);
  expect(first.stderr).toContain("is empty: formatting it ext4");
  expect(first.status).toBe(0);
  const uuid = execFileSync("blkid", ["-s", "UUID", "-o", "value", device], { encoding: "utf8" }).trim();
  const fstab = readFileSync(join(dir, "fstab"), "utf8");
  expect(fstab).toContain(`UUID=${uuid} ${join(dir, "mnt")} ext4 defaults,nofail,x-systemd.device-timeout=30s 0 2`);
  expect(fstab).toContain("proc /proc proc defaults 0 0");

  const second = boot(`cat "$3/kept.txt"`);
  expect(second.status).toBe(0);
  expect(second.stderr).toContain("is not empty: keeping what it holds");
  expect(second.stderr).not.toContain("formatting");
  expect(second.stdout).toBe("participant-data\n");
  // One line for the mount point, not one per boot.
  expect(
    readFileSync(join(dir, "fstab"), "utf8")
      .split("\n")
      .filter((l) => l.includes(join(dir, "mnt"))),
  ).toHaveLength(1);
});

test("a volume holding a partition table (no filesystem the script knows) is never formatted", () => {
  execFileSync("wipefs", ["-a", "-q", device]);
  execFileSync("sfdisk", ["-q", device], { input: "label: gpt\n" });
  const fstabBefore = readFileSync(join(dir, "fstab"), "utf8");
  const r = boot("true");
  expect(r.stderr).toContain("is not empty: keeping what it holds");
  expect(r.stderr).toContain("holds no filesystem studyhost can mount (a partition table?): not touching it");
  expect(r.status).not.toBe(0);
  expect(r.stderr).not.toContain("formatting");
  expect(readFileSync(join(dir, "fstab"), "utf8")).toBe(fstabBefore);
  expect(execFileSync("blkid", ["-p", "-s", "PTTYPE", "-o", "value", device], { encoding: "utf8" }).trim()).toBe("gpt");
});

// The app step when the data volume never attached: it must refuse, as PostgreSQL's does, rather than
// make the app's state folder (and SQLite file) on the boot disk. Run from the rendered provisioning
// script in a private mount namespace: a tmpfs on /var/lib gives an empty /var/lib/studyhost without
// touching the machine's, and the commands that would change the machine (useradd, install, chown,
// the deploy script) are stand-ins that only record their call; `mountpoint` is the real one.
describe("the app step and a data volume that never attached", () => {
  let provision = "";
  beforeAll(async () => {
    const hosts = await renderHosts({ small: studyConfig("digitalocean", "small", { database: { engine: "sqlite" } }) });
    provision = readFileSync(join(hosts[0].root, "usr/local/sbin/studyhost-provision"), "utf8");
    rmSync(dirname(dirname(hosts[0].dir)), { recursive: true, force: true });
  }, 60_000);

  /** The rendered step's function, run after `setup` (shell) in a private mount namespace. */
  function runStep(step: string, setup: string) {
    const body = new RegExp(`^step_${step}\\(\\) \\{\\n[^]*?\\n\\}$`, "m").exec(provision);
    expect(body).not.toBeNull();
    const calls = join(dir, `calls-${step}`);
    writeFileSync(calls, "");
    const stubs = ["useradd", "install", "chown", "find", "systemctl"].map((c) => `${c}() { echo "${c} $*" >> ${calls}; }`).join("\n");
    // The app's user exists (id succeeds); its passwd line says whose it is (STUDY_HOME, set by a test's setup).
    const getent = `getent() { echo "getent $*" >> ${calls}; echo "study:x:999:999::\${STUDY_HOME:-/srv/study}:/usr/sbin/nologin"; }`;
    const script = `set -Eeuo pipefail
mount -t tmpfs studyhost-test /var/lib && mkdir /var/lib/studyhost
mount -t tmpfs studyhost-test /usr/local/sbin
printf '#!/bin/sh\\necho "deploy $0" >> ${calls}\\n' > /usr/local/sbin/studyhost-deploy-study && chmod +x /usr/local/sbin/studyhost-deploy-study
${setup}
id() { return 0; }
${stubs}
${getent}
${body![0]}
step_${step}`;
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", script], { encoding: "utf8" });
    return { status: r.status, stderr: r.stderr, calls: readFileSync(calls, "utf8") };
  }

  test("not mounted: the app step stops, naming the volume, before making anything", () => {
    const r = runStep("app", "");
    expect(r.stderr).toContain(
      "the data volume is not mounted on /var/lib/studyhost (did it attach? see studyhost-data-volume in /var/log/cloud-init-output.log): refusing to put study's state on the boot disk",
    );
    expect(r.status).toBe(1);
    expect(r.calls).toBe("");
  });

  test("the backups step refuses the same way", () => {
    const r = runStep("backups", "");
    expect(r.stderr).toContain("refusing to put the backups on the boot disk");
    expect(r.status).toBe(1);
    expect(r.calls).toBe("");
  });

  test("a folder bound onto /var/lib/studyhost (studyhost local, the e2e harness) is a mount point: the step goes on", () => {
    const r = runStep("app", `mkdir /var/lib/bound && mount --bind /var/lib/bound /var/lib/studyhost`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.calls).toContain("install -d -o study -g study -m 0750 /var/lib/studyhost/study /var/log/study\n");
    expect(r.calls).toContain("deploy /usr/local/sbin/studyhost-deploy-study\n");
  });

  test("a user of the app's name that studyhost did not make (its home elsewhere) stops the step before it takes anything over", () => {
    const r = runStep(
      "app",
      `mkdir /var/lib/bound && mount --bind /var/lib/bound /var/lib/studyhost
STUDY_HOME=/var/mail`,
    );
    expect(r.stderr).toContain("the host already has a user study (home /var/mail), not made by studyhost: give the app another name (studyhost:app.name)");
    expect(r.status).toBe(1);
    expect(r.calls).toBe("getent passwd study\n");
  });
});
