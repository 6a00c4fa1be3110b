// A host's backups run one after the other, each even when one before it failed (found by booting the
// e-mission example, test/e2e/emission.e2e.ts): with several ExecStart lines, systemd stops a oneshot at
// the first that fails, so the example's SQLite backup (of a file e-mission never creates) skipped
// MongoDB's dump, the study's only data. The rendered run-backups runs here for real with bash.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupExecStart, backupPart, RUN_BACKUPS, RUN_BACKUPS_SH } from "../src/host/backup";
import { MONGODB } from "../src/host/mongodb";

let scratch = "";
let runner = "";

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "studyhost-run-backups-"));
  runner = join(scratch, "run-backups");
  writeFileSync(runner, RUN_BACKUPS_SH, { mode: 0o755 });
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const touch = (name: string) => `/usr/bin/touch ${join(scratch, name)}`;

test("a failing backup does not stop the ones after it; the run fails and names it", () => {
  const r = spawnSync(runner, [touch("first"), "/usr/bin/false", `/usr/bin/env MARK=1 ${touch("third")}`], { encoding: "utf8" });
  expect(r.status).toBe(1);
  expect([existsSync(join(scratch, "first")), existsSync(join(scratch, "third"))]).toEqual([true, true]);
  expect(r.stderr).toContain("backup failed: /usr/bin/false");
  expect(r.stderr).toContain("1 of 3 backups failed: /usr/bin/false");
  expect(r.stdout).toContain(`== backup: /usr/bin/env MARK=1 ${touch("third")}`);
});

test("every backup passing: the run passes", () => {
  const r = spawnSync(runner, [touch("a"), touch("b")], { encoding: "utf8" });
  expect([r.status, r.stderr]).toEqual([0, ""]);
  expect([existsSync(join(scratch, "a")), existsSync(join(scratch, "b"))]).toEqual([true, true]);
});

test("the unit: one command as before; several through run-backups, each one quoted argument", () => {
  expect(backupExecStart(["/usr/local/sbin/studyhost-backup"])).toEqual({ execStart: "ExecStart=/usr/local/sbin/studyhost-backup\n", files: [] });
  const part = backupPart({ source: { engine: "sqlite", name: "emission", path: "/var/lib/studyhost/emission/emission.sqlite3", owner: "emission" }, schedule: "daily", keepDaily: 7, keepWeekly: 4, keepMonthly: 6, extraCommands: [MONGODB.backup] } as Parameters<typeof backupPart>[0]);
  const unit = part.files!.find((f) => f.path === "/etc/systemd/system/studyhost-backup.service")!.content;
  expect(unit).toContain(`\nExecStart=${RUN_BACKUPS} "/usr/local/sbin/studyhost-backup" "${MONGODB.backup}"\n`);
  expect(unit.match(/^ExecStart=/gm)).toHaveLength(1);
  expect(part.files!.find((f) => f.path === RUN_BACKUPS)?.content).toBe(RUN_BACKUPS_SH);
});
