// The log folders on the data volume (src/host/system/logVolume.ts, studyhost:logsOnDataVolume): the names
// and paths the mount units get, and what makes a mount wait for provisioning. The names checked
// against systemd-escape, and the rendered step and studyhost-move-logs run for real in a mount
// namespace of their own (root): test/host/logVolume.test.ts.
import { LOGS_MOVED_FLAG, logVolumePart, mountUnitName, NGINX_LOGS, volumeFolder } from "../src/host/system/logVolume";

test("a log folder systemd would escape (a dash) or a folder elsewhere is refused, not escaped wrong; each has its folder on the volume", () => {
  expect(() => mountUnitName("/var/log/my-app")).toThrow(/not \/var\/log\/<name>/);
  expect(() => mountUnitName("/srv/study")).toThrow(/not \/var\/log\/<name>/);
  expect(volumeFolder("/var/log/nginx")).toBe("/var/lib/studyhost/logs/nginx");
});

test("the mount is skipped until provisioning has moved the logs, and fails (with every writer) if the volume lacks the folder", () => {
  const unit = logVolumePart([NGINX_LOGS]).files!.find((f) => f.path.endsWith("/var-log-nginx.mount"))!.content;
  expect(unit).toContain(`\nConditionPathExists=${LOGS_MOVED_FLAG}\nAssertPathIsDirectory=/var/lib/studyhost/logs/nginx\n`);
});
