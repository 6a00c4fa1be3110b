// Backups (seed 001's practice, ../shared/notes/server-practice.md "Backups"): a systemd timer, a dump
// that is checked before it counts, daily / weekly / monthly retention, an optional offsite copy, a
// restore command, and a failure that is loud (the unit fails; an alert hook runs).
import { ALERT_ON_FAILURE } from "../system/base";
import { configFile, HostFile, HostPart, PATHS, script, secretFile } from "../document/part";
import { envFile } from "../document/env";
import { rcloneS3Remote } from "../system/rclone";
import { extraRolesFile, POSTGRES_SETUP, ROLES_FILE } from "../databases/postgres";
import { requireDataVolume } from "../system/volume";
import { fillAsset, hostAsset } from "../document/template";

export type BackupSource =
  | { readonly engine: "postgres"; readonly database: string; readonly appRole: string }
  | { readonly engine: "sqlite"; readonly name: string; readonly path: string; readonly owner: string };

export interface BackupInput {
  readonly source: BackupSource;
  readonly schedule: string;
  readonly keepDaily: number;
  readonly keepWeekly: number;
  readonly keepMonthly: number;
  readonly offsite?: {
    readonly bucket: string;
    readonly endpoint?: string;
    readonly region?: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  };
  /** The app's systemd unit on this host, stopped during a restore; undefined on a database host. */
  readonly appUnit?: string;
  /**
   * The databases of the host's other apps (sites with `database: true`), backed up by the same timer
   * after the study's, each into its own folder (`backups/<name>`, pruned on its own) with its own
   * settings file: `sudo env STUDYHOST_BACKUP_ENV=/etc/studyhost/backup.d/<name>.env studyhost-restore`.
   * @default [] (the study's database only)
   */
  readonly extra?: readonly { readonly source: BackupSource; readonly appUnit?: string }[];
  /**
   * More backup commands the same timer runs after the databases above (the accessory databases'
   * scripts, src/host/databases/accessories.ts), each an absolute path.
   * @default [] (none)
   */
  readonly extraCommands?: readonly string[];
}

/** The settings file of another app's database backup (`extra`). */
export const extraBackupEnv = (name: string) => `${PATHS.etc}/backup.d/${name}.env`;
const sourceName = (s: BackupSource) => (s.engine === "postgres" ? s.database : s.name);

/** The backup settings; STUDYHOST_BACKUP_ENV (and STUDYHOST_PRUNE) point the scripts elsewhere, for tests. */
export const BACKUP_ENV = `${PATHS.etc}/backup.env`;
export const OFFSITE_ENV = `${PATHS.etc}/offsite.env`;
export const PRUNE_SCRIPT = `${PATHS.lib}/prune_backups.py`;

/**
 * Which backups to keep: the newest of each of the last `daily` days, `weekly` ISO weeks and `monthly`
 * months that have a backup. Python, because the host has it (cloud-init is Python) and dates are
 * easy there; the rule is tested over 400 simulated days.
 */
export const PRUNE_PY = hostAsset(__dirname, "prune_backups.py");

/**
 * studyhost's backup library, sourced by every engine's backup and restore (this module's, MariaDB's,
 * MongoDB's): the private folder and the partial file that vanishes if a dump fails; the checked dump
 * kept, pruned by the retention rule and copied offsite; the backup chosen for a restore, the prompt,
 * the app stopped meanwhile. Shared at run time, so each script's asset holds only its engine's lines.
 */
export const BACKUP_LIB = `${PATHS.lib}/backup-lib.bash`;
export const BACKUP_LIB_BASH = fillAsset(__dirname, "backup-lib.bash", { PRUNE_SCRIPT, OFFSITE_ENV });

/** What every host that keeps backups gets beside its backup scripts: the retention rule and the library. */
export const BACKUP_TOOLS: readonly HostFile[] = [script(PRUNE_SCRIPT, PRUNE_PY), configFile(BACKUP_LIB, BACKUP_LIB_BASH)];

/** The study's database's backup (and, with their own settings, the other apps' databases'). */
export const BACKUP_SH = fillAsset(__dirname, "backup.sh", { BACKUP_ENV, BACKUP_LIB });

/** The restore: the backup named on the command line, or the newest; a prompt unless --yes; the app's unit stopped while it runs. */
export const RESTORE_SH = fillAsset(__dirname, "restore.sh", { BACKUP_ENV, BACKUP_LIB, POSTGRES_SETUP });

/** Runs a timer's backups one after the other (the unit's one ExecStart). */
export const BACKUP_EACH = `${PATHS.sbin}/studyhost-backup-each`;

/**
 * Every backup a timer makes runs, even when one before it fails (a failed pg_dump must not skip
 * MariaDB's dump, nor the sites'); the run fails at the end, naming the ones that failed, so the unit
 * fails and the alert runs. Each argument is one command line of studyhost's own words (paths and
 * NAME=value settings, never user text): split on spaces.
 */
export const BACKUP_EACH_SH = hostAsset(__dirname, "backup-each.sh");

/** The ExecStart= line of a backup unit: its commands through BACKUP_EACH (systemd's double quotes group each). */
export function backupExecStart(commands: readonly string[]): string {
  return `ExecStart=${BACKUP_EACH} ${commands.map((c) => `"${c}"`).join(" ")}`;
}

const backupService = (extraEnvFiles: readonly string[], extraCommands: readonly string[] = []) =>
  fillAsset(__dirname, "studyhost-backup.service", {
    BACKUP_SCRIPT: `${PATHS.sbin}/studyhost-backup`,
    DATA: PATHS.data,
    ALERT_ON_FAILURE,
    EXEC_START: backupExecStart([
      `${PATHS.sbin}/studyhost-backup`,
      ...extraEnvFiles.map((f) => `/usr/bin/env STUDYHOST_BACKUP_ENV=${f} ${PATHS.sbin}/studyhost-backup`),
      ...extraCommands,
    ]),
  });

export function backupTimer(schedule: string): string {
  return fillAsset(__dirname, "studyhost-backup.timer", { SCHEDULE: schedule });
}

function offsiteEnv(offsite: NonNullable<BackupInput["offsite"]>): string {
  return envFile({ OFFSITE_BUCKET: offsite.bucket, ...rcloneS3Remote("OFFSITE", offsite) });
}

/**
 * The offsite copy's settings and rclone, for a host whose backups run without `backupPart` (only
 * accessory databases): their scripts copy offsite when this file exists, as the main backup does.
 */
export function offsitePart(offsite: NonNullable<BackupInput["offsite"]>): HostPart {
  return { packages: ["rclone"], files: [secretFile(OFFSITE_ENV, offsiteEnv(offsite))] };
}

/**
 * The settings one run of the backup (and restore) script reads. `rolesFile`: the database's roles
 * file (postgres.ts), which a restore hands to the set-up when the database is gone.
 */
function backupEnv(input: BackupInput, s: BackupSource, dir: string, appUnit: string | undefined, rolesFile: string): string {
  return envFile({
    ENGINE: s.engine,
    BACKUP_DIR: dir,
    NAME: sourceName(s),
    KEEP_DAILY: String(input.keepDaily),
    KEEP_WEEKLY: String(input.keepWeekly),
    KEEP_MONTHLY: String(input.keepMonthly),
    APP_UNIT: appUnit ?? "",
    ...(s.engine === "postgres" ? { APP_ROLE: s.appRole, ROLES_ENV: rolesFile } : { SQLITE_PATH: s.path, SQLITE_OWNER: s.owner }),
  });
}

export function backupPart(input: BackupInput): HostPart {
  const s = input.source;
  const extra = input.extra ?? [];
  const engines = [...new Set([s, ...extra.map((x) => x.source)].map((x) => (x.engine === "sqlite" ? "sqlite3" : "postgresql-client")))];
  return {
    packages: [...engines, ...(input.offsite ? ["rclone"] : [])],
    files: [
      // The study's database is set up from the main roles file, the others' each from their own.
      configFile(BACKUP_ENV, backupEnv(input, s, PATHS.backups, input.appUnit, ROLES_FILE)),
      // Each in a folder of its own: the pruning keeps the newest backups of a folder, whatever their name.
      ...extra.map((x) =>
        configFile(
          extraBackupEnv(sourceName(x.source)),
          backupEnv(input, x.source, `${PATHS.backups}/${sourceName(x.source)}`, x.appUnit, extraRolesFile(sourceName(x.source))),
        ),
      ),
      ...BACKUP_TOOLS,
      script(`${PATHS.sbin}/studyhost-backup`, BACKUP_SH),
      script(BACKUP_EACH, BACKUP_EACH_SH),
      script(`${PATHS.sbin}/studyhost-restore`, RESTORE_SH),
      configFile(
        `${PATHS.units}/studyhost-backup.service`,
        backupService(
          extra.map((x) => extraBackupEnv(sourceName(x.source))),
          input.extraCommands,
        ),
      ),
      configFile(`${PATHS.units}/studyhost-backup.timer`, backupTimer(input.schedule)),
      ...(input.offsite ? [secretFile(OFFSITE_ENV, offsiteEnv(input.offsite))] : []),
    ],
    steps: [
      {
        name: "backups",
        script: `${requireDataVolume("the backups")}\ninstall -d -m 0700 ${PATHS.backups}\nsystemctl daemon-reload\nsystemctl enable --now studyhost-backup.timer`,
      },
    ],
  };
}
