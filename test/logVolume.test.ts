// The log folders on the data volume (src/host/logVolume.ts, studyhost:logsOnDataVolume): the mount
// units' names as systemd itself escapes paths, and what the rendered step does with the files a
// folder already holds, run for real in a mount namespace of its own (the test's /var/log and data
// volume are scratch folders bound over the real paths there; systemctl is the one stand-in).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { logVolumePart, mountUnitName, NGINX_LOGS, volumeFolder } from "../src/host/logVolume";

test("mount unit names are what systemd-escape --path gives", () => {
  for (const path of ["/var/log/journal", "/var/log/nginx", "/var/log/emission_staging", "/var/log/study2"]) {
    const r = spawnSync("systemd-escape", ["--path", "--suffix=mount", path], { encoding: "utf8" });
    expect([path, mountUnitName(path)]).toEqual([path, r.stdout.trim()]);
  }
  // A name systemd would escape (a dash) or a folder elsewhere is refused, not escaped wrong.
  expect(() => mountUnitName("/var/log/my-app")).toThrow(/not \/var\/log\/<name>/);
  expect(() => mountUnitName("/srv/study")).toThrow(/not \/var\/log\/<name>/);
  expect(volumeFolder("/var/log/nginx")).toBe("/var/lib/studyhost/logs/nginx");
});

const root = process.getuid?.() === 0;
(root ? test : test.skip)("the step moves what the boot disk holds to the volume, keeps a same-named file already there, mounts, and does nothing the second time", () => {
  const scratch = mkdtempSync(join(tmpdir(), "studyhost-logvolume-"));
  try {
    // systemctl's stand-in: `start <unit>.mount` does the bind mount the unit names; anything else is logged.
    const bin = join(scratch, "bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "systemctl"),
      `#!/bin/sh\necho "systemctl $*" >> ${scratch}/systemctl.log\nif [ "$1" = start ]; then mount --bind /var/lib/studyhost/logs/nginx /var/log/nginx; fi\n`,
    );
    chmodSync(join(bin, "systemctl"), 0o755);
    const step = logVolumePart([NGINX_LOGS]).steps![0].script;
    writeFileSync(join(scratch, "step.sh"), `set -euo pipefail\n${step}\n`);
    const setup = `set -eu
mount -t tmpfs scratch-log /var/log
mount -t tmpfs scratch-var-lib /var/lib
mkdir /var/lib/studyhost
mount -t tmpfs scratch-volume /var/lib/studyhost
mkdir -p /var/log/nginx /var/lib/studyhost/logs/nginx
echo 'boot disk line' > /var/log/nginx/access.log
echo 'error' > /var/log/nginx/error.log
chown root:adm /var/log/nginx; chmod 0750 /var/log/nginx
# A volume kept from a replaced machine: its access.log must survive.
echo 'old machine line' > /var/lib/studyhost/logs/nginx/access.log
PATH=${bin}:$PATH bash ${scratch}/step.sh
echo "--- mounted: $(findmnt -n -o SOURCE /var/log/nginx)"
echo "--- volume: $(cd /var/lib/studyhost/logs/nginx && for f in $(ls); do printf '%s=%s;' "$f" "$(cat "$f")"; done)"
echo "--- owner: $(stat -c '%U:%G %a' /var/lib/studyhost/logs/nginx)"
umount /var/log/nginx
echo "--- boot disk: $(ls -A /var/log/nginx | tr '\\n' ' ')"
mount --bind /var/lib/studyhost/logs/nginx /var/log/nginx
PATH=${bin}:$PATH bash ${scratch}/step.sh
echo "--- second run listed: $(ls /var/lib/studyhost/logs/nginx | tr '\\n' ' ')"
`;
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", setup], { encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    const out = r.stdout;
    expect(out).toMatch(/--- mounted: scratch-volume\[\/logs\/nginx\]/);
    // The boot disk's lines moved; the old machine's access.log kept beside it as access.log.~1~.
    expect(out).toContain("--- volume: access.log=boot disk line;access.log.~1~=old machine line;error.log=error;");
    expect(out).toContain("--- owner: root:adm 750");
    expect(out).toContain("--- boot disk: \n");
    expect(out).toContain("--- second run listed: access.log access.log.~1~ error.log \n");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
