// The log folders on the data volume (src/host/system/logVolume.ts, studyhost:logsOnDataVolume): the mount
// units' names as systemd itself escapes paths, and what the rendered step and studyhost-move-logs do
// with the files a folder already holds, run for real in a mount namespace of the test's own (its
// /var/log and data volume are tmpfs over the real paths there). Stand-ins: systemctl (its `start` does
// the bind mount the unit names), and the flag and script paths moved into the test's scratch folder.
// What needs no program: test/logVolume.test.ts. Needs systemd's systemd-escape; root and util-linux's
// unshare for the step.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOGS_MOVED_FLAG, logVolumePart, mountUnitName, MOVE_LOGS, NGINX_LOGS, volumeFolder } from "../../src/host/system/logVolume";

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
(root ? test : test.skip)(
  "the step moves what the boot disk holds to the volume (a .log on both sides appended, nothing lost), mounts, and moves files found under a mount made before it",
  () => {
    const scratch = mkdtempSync(join(tmpdir(), "studyhost-logvolume-"));
    try {
      const bin = join(scratch, "bin");
      mkdirSync(bin);
      writeFileSync(
        join(bin, "systemctl"),
        `#!/bin/sh\nif [ "$1" = start ] && ! mountpoint -q /var/log/nginx; then mount --bind /var/lib/studyhost/logs/nginx /var/log/nginx; fi\n`,
      );
      chmodSync(join(bin, "systemctl"), 0o755);
      const part = logVolumePart([NGINX_LOGS]);
      writeFileSync(join(bin, "studyhost-move-logs"), part.files!.find((f) => f.path === MOVE_LOGS)!.content);
      chmodSync(join(bin, "studyhost-move-logs"), 0o755);
      const step = part
        .steps![0].script.replaceAll(MOVE_LOGS, join(bin, "studyhost-move-logs"))
        .replaceAll(LOGS_MOVED_FLAG, join(scratch, "flag"))
        .replace(/^install -d \/etc\/studyhost$/m, "");
      writeFileSync(join(scratch, "step.sh"), `set -euo pipefail\n${step}\n`);
      const listing = `$(cd /var/lib/studyhost/logs/nginx && for f in $(ls); do printf '%s=%s;' "$f" "$(tr '\\n' '+' < "$f")"; done)`;
      const setup = `set -eu
mount -t tmpfs scratch-log /var/log
mount -t tmpfs scratch-var-lib /var/lib
mkdir /var/lib/studyhost
mount -t tmpfs scratch-volume /var/lib/studyhost
mkdir -p /var/log/nginx /var/lib/studyhost/logs/nginx
echo 'boot disk line' > /var/log/nginx/access.log
echo 'error' > /var/log/nginx/error.log
echo 'not a log' > /var/log/nginx/state
chown root:adm /var/log/nginx; chmod 0750 /var/log/nginx
# A volume kept from a replaced machine (its folder made by that machine).
rmdir /var/lib/studyhost/logs/nginx; mkdir -p /var/lib/studyhost/logs; mkdir -m 0750 /var/lib/studyhost/logs/nginx; chown root:adm /var/lib/studyhost/logs/nginx
echo 'old machine line' > /var/lib/studyhost/logs/nginx/access.log
echo 'old state' > /var/lib/studyhost/logs/nginx/state
PATH=${bin}:$PATH bash ${scratch}/step.sh
echo "--- flag: $(cat ${scratch}/flag && echo present)"
echo "--- mounted: $(findmnt -n -o SOURCE /var/log/nginx)"
echo "--- volume: ${listing}"
echo "--- owner: $(stat -c '%U:%G %a' /var/lib/studyhost/logs/nginx)"
umount /var/log/nginx
echo "--- boot disk: $(ls -A /var/log/nginx | tr '\\n' ' ')"
# A writer started meanwhile wrote on the boot disk, then the folder was mounted before the step ran again.
echo 'late line' > /var/log/nginx/access.log
mount --bind /var/lib/studyhost/logs/nginx /var/log/nginx
PATH=${bin}:$PATH bash ${scratch}/step.sh
echo "--- second run: ${listing}"
umount /var/log/nginx
echo "--- boot disk after: $(ls -A /var/log/nginx | tr '\\n' ' ')"
`;
      const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", setup], { encoding: "utf8" });
      expect([r.status, r.stderr]).toEqual([0, ""]);
      const out = r.stdout;
      expect(out).toContain("--- flag: present");
      expect(out).toMatch(/--- mounted: scratch-volume\[\/logs\/nginx\]/);
      // The old machine's access.log with this machine's lines appended; another file of the same name kept beside.
      expect(out).toContain("--- volume: access.log=old machine line+boot disk line+;error.log=error+;state=not a log+;state.~1~=old state+;");
      expect(out).toContain("--- owner: root:adm 750");
      expect(out).toContain("--- boot disk: \n");
      expect(out).toContain("--- second run: access.log=old machine line+boot disk line+late line+;error.log=error+;state=not a log+;state.~1~=old state+;");
      expect(out).toContain("--- boot disk after: \n");
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
);
