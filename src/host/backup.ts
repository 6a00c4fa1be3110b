// Backups (seed 001's practice, ../shared/notes/server-practice.md "Backups"): a systemd timer, a dump
// that is checked before it counts, daily / weekly / monthly retention, an optional offsite copy, a
// restore command, and a failure that is loud (the unit fails; an alert hook runs).
import { ALERT_ON_FAILURE } from "./base";
import { configFile, HostPart, PATHS, script, secretFile } from "./part";
import { bashScript } from "./shell";
import { envFile } from "./env";
import { rcloneS3Remote } from "./rclone";

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
   * scripts, src/host/accessories.ts), each an absolute path.
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
export const PRUNE_PY = `#!/usr/bin/python3
"""studyhost: prune backups to the newest of each of the last N days, weeks and months."""
import argparse
import datetime
import os
import re
import sys

STAMP = re.compile(r"-(\\d{8}T\\d{6}Z)\\.(dump|sqlite3)$")


def kept(stamps, daily, weekly, monthly):
    """The stamps to keep, from datetimes (any order)."""
    keep = set()
    for count, period in ((daily, lambda t: t.date()), (weekly, lambda t: t.isocalendar()[:2]), (monthly, lambda t: (t.year, t.month))):
        newest = {}
        for t in stamps:
            key = period(t)
            if key not in newest or t > newest[key]:
                newest[key] = t
        keep.update(newest[k] for k in sorted(newest, reverse=True)[:count])
    if stamps:
        keep.add(max(stamps))
    return keep


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory")
    parser.add_argument("--daily", type=int, required=True)
    parser.add_argument("--weekly", type=int, required=True)
    parser.add_argument("--monthly", type=int, required=True)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    files = {}
    for name in os.listdir(args.directory):
        match = STAMP.search(name)
        if match:
            files[name] = datetime.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ")
    keep = kept(list(files.values()), args.daily, args.weekly, args.monthly)
    for name, stamp in sorted(files.items()):
        if stamp not in keep:
            print(f"pruning {name}")
            if not args.dry_run:
                os.remove(os.path.join(args.directory, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;

/** The lines of a backup script that copy "$final" to the offsite bucket, when one is configured. */
export const OFFSITE_COPY = `if [ -f ${OFFSITE_ENV} ]; then
  # rclone reads its remote from RCLONE_CONFIG_OFFSITE_* in this root-only file.
  set -a
  # shellcheck source=/dev/null
  . ${OFFSITE_ENV}
  set +a
  rclone copyto "$final" "offsite:$OFFSITE_BUCKET/$(hostname)/$(basename "$final")"
  echo "copied offsite to $OFFSITE_BUCKET"
fi`;

// The pieces every backup script shares (the study's database, MariaDB, MongoDB): where a dump is
// written until it is checked, how it is kept, pruned and copied offsite, how a restore picks one.

/** After the settings are sourced: a stamped, root-only partial file that vanishes if the dump fails. */
export const BACKUP_START = `prune="\${STUDYHOST_PRUNE:-${PRUNE_SCRIPT}}"
umask 077
install -d -m 0700 "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="$BACKUP_DIR/.partial-$stamp"
trap 'rm -f "$partial"' EXIT
`;

/** A checked dump becomes $final; then the retention rule, then the offsite copy. */
export const BACKUP_FINISH = `mv "$partial" "$final"
echo "backup written: $final ($(stat -c %s "$final") bytes)"
"$prune" "$BACKUP_DIR" --daily "$KEEP_DAILY" --weekly "$KEEP_WEEKLY" --monthly "$KEEP_MONTHLY"
${OFFSITE_COPY}`;

/** The backup a restore uses: the one named on the command line, or the newest matching PATTERN. */
export function pickBackup(pattern: string): string {
  return `file="\${1:-$(find "$BACKUP_DIR" -maxdepth 1 -name "${pattern}" -printf '%f\\n' | sort | tail -n 1)}"
[ -n "$file" ] || { echo "no backup in $BACKUP_DIR" >&2; exit 1; }
case "$file" in /*) ;; *) file="$BACKUP_DIR/$file" ;; esac
[ -f "$file" ] || { echo "no such backup: $file" >&2; exit 1; }`;
}

export const BACKUP_SH = bashScript(
  "studyhost-backup: dump the study's database, check the dump, keep it, prune old ones, copy it offsite.",
  `
# shellcheck source=/dev/null
. "\${STUDYHOST_BACKUP_ENV:-${BACKUP_ENV}}"
${BACKUP_START}case "$ENGINE" in
  postgres)
    final="$BACKUP_DIR/$NAME-$stamp.dump"
    runuser -u postgres -- pg_dump --format=custom --dbname="$NAME" > "$partial"
    pg_restore --list "$partial" > /dev/null
    ;;
  sqlite)
    final="$BACKUP_DIR/$NAME-$stamp.sqlite3"
    # sqlite3 would create an empty database (and "back it up") if the file were missing. A missing
    # file fails loudly: it cannot be told from a lost one. (An app that keeps its data elsewhere, such
    # as CamCOPS in MariaDB, sets studyhost:database.engine none and has no SQLite backup at all.)
    [ -f "$SQLITE_PATH" ] || { echo "no SQLite database at $SQLITE_PATH" >&2; exit 1; }
    # As the app's user, next to the database: run as root, sqlite3 could leave root-owned -wal and
    # -shm files that the app could then not open.
    staged="$(dirname "$SQLITE_PATH")/.studyhost-backup-$stamp"
    runuser -u "$SQLITE_OWNER" -- sqlite3 "$SQLITE_PATH" ".backup '$staged'"
    mv "$staged" "$partial"
    [ "$(sqlite3 "$partial" 'PRAGMA integrity_check;')" = ok ]
    ;;
  *) echo "unknown engine $ENGINE" >&2; exit 1 ;;
esac
${BACKUP_FINISH}
`,
);

export const RESTORE_SH = bashScript(
  "studyhost-restore [--yes] [BACKUP]: put a backup back (the newest if none is named).",
  `
# shellcheck source=/dev/null
. "\${STUDYHOST_BACKUP_ENV:-${BACKUP_ENV}}"
yes=no
if [ "\${1:-}" = --yes ]; then yes=yes; shift; fi
${pickBackup("$NAME-*")}
if [ "$yes" != yes ]; then
  read -r -p "Replace the data of $NAME with $file? Type yes: " answer
  [ "$answer" = yes ] || { echo "nothing restored"; exit 1; }
fi
if [ -n "\${APP_UNIT:-}" ]; then systemctl stop "$APP_UNIT"; trap 'systemctl start "$APP_UNIT"' EXIT; fi
case "$ENGINE" in
  postgres)
    pg_restore --list "$file" > /dev/null
    runuser -u postgres -- pg_restore --clean --if-exists --no-owner --role="$APP_ROLE" --single-transaction --exit-on-error --dbname="$NAME" < "$file"
    ;;
  sqlite)
    [ "$(sqlite3 "$file" 'PRAGMA integrity_check;')" = ok ]
    if [ -f "$SQLITE_PATH" ]; then cp -a "$SQLITE_PATH" "$SQLITE_PATH.before-restore"; fi
    install -o "$SQLITE_OWNER" -g "$(id -gn "$SQLITE_OWNER")" -m 0640 "$file" "$SQLITE_PATH"
    rm -f "$SQLITE_PATH-wal" "$SQLITE_PATH-shm"
    ;;
esac
echo "restored $NAME from $file"
`,
);

/** Runs a host's backups one after the other, each even when one before it failed. */
export const RUN_BACKUPS = `${PATHS.lib}/run-backups`;

export const RUN_BACKUPS_SH = bashScript(
  "run-backups COMMAND...: run each backup command (one argument each), even when one before it failed; fails when any failed, naming them.",
  `
failed=()
for command in "$@"; do
  read -r -a words <<< "$command"
  echo "== backup: $command"
  "\${words[@]}" || { echo "backup failed: $command" >&2; failed+=("$command"); }
done
if [ "\${#failed[@]}" -gt 0 ]; then
  echo "\${#failed[@]} of $# backups failed: \${failed[*]}" >&2
  exit 1
fi
`,
);

/**
 * The ExecStart of a backup service running COMMANDS (absolute paths, words without quotes), and the
 * files it needs. Several ExecStart lines would not do: systemd stops a oneshot at the first that
 * fails, so a failing backup (a SQLite file the app never made) would skip the ones after it (MongoDB's,
 * the study's only data). With more than one command, run-backups runs them all and fails if any did.
 */
export function backupExecStart(commands: readonly string[]): { execStart: string; files: HostPart["files"] } {
  if (commands.length === 1) return { execStart: `ExecStart=${commands[0]}\n`, files: [] };
  return { execStart: `ExecStart=${RUN_BACKUPS} ${commands.map((c) => `"${c}"`).join(" ")}\n`, files: [script(RUN_BACKUPS, RUN_BACKUPS_SH)] };
}

const backupCommands = (extraEnvFiles: readonly string[], extraCommands: readonly string[] = []) => [
  `${PATHS.sbin}/studyhost-backup`,
  ...extraEnvFiles.map((f) => `/usr/bin/env STUDYHOST_BACKUP_ENV=${f} ${PATHS.sbin}/studyhost-backup`),
  ...extraCommands,
];

const backupService = (execStart: string) => `[Unit]
Description=studyhost backup of the study's database
Documentation=file://${PATHS.sbin}/studyhost-backup
RequiresMountsFor=${PATHS.data}
${ALERT_ON_FAILURE}

[Service]
Type=oneshot
${execStart}Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
`;

export function backupTimer(schedule: string): string {
  return `[Unit]
Description=studyhost backup schedule

[Timer]
OnCalendar=${schedule}
# A backup missed while the machine was off runs at the next boot.
Persistent=true
RandomizedDelaySec=10min

[Install]
WantedBy=timers.target
`;
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

/** The settings one run of the backup (and restore) script reads. */
function backupEnv(input: BackupInput, s: BackupSource, dir: string, appUnit: string | undefined): string {
  return envFile({
    ENGINE: s.engine,
    BACKUP_DIR: dir,
    NAME: sourceName(s),
    KEEP_DAILY: String(input.keepDaily),
    KEEP_WEEKLY: String(input.keepWeekly),
    KEEP_MONTHLY: String(input.keepMonthly),
    APP_UNIT: appUnit ?? "",
    ...(s.engine === "postgres" ? { APP_ROLE: s.appRole } : { SQLITE_PATH: s.path, SQLITE_OWNER: s.owner }),
  });
}

export function backupPart(input: BackupInput): HostPart {
  const s = input.source;
  const extra = input.extra ?? [];
  const run = backupExecStart(backupCommands(extra.map((x) => extraBackupEnv(sourceName(x.source))), input.extraCommands));
  const engines = [...new Set([s, ...extra.map((x) => x.source)].map((x) => (x.engine === "sqlite" ? "sqlite3" : "postgresql-client")))];
  return {
    packages: [...engines, ...(input.offsite ? ["rclone"] : [])],
    files: [
      configFile(BACKUP_ENV, backupEnv(input, s, PATHS.backups, input.appUnit)),
      // Each in a folder of its own: the pruning keeps the newest backups of a folder, whatever their name.
      ...extra.map((x) => configFile(extraBackupEnv(sourceName(x.source)), backupEnv(input, x.source, `${PATHS.backups}/${sourceName(x.source)}`, x.appUnit))),
      script(PRUNE_SCRIPT, PRUNE_PY),
      script(`${PATHS.sbin}/studyhost-backup`, BACKUP_SH),
      script(`${PATHS.sbin}/studyhost-restore`, RESTORE_SH),
      ...(run.files ?? []),
      configFile(`${PATHS.units}/studyhost-backup.service`, backupService(run.execStart)),
      configFile(`${PATHS.units}/studyhost-backup.timer`, backupTimer(input.schedule)),
      ...(input.offsite ? [secretFile(OFFSITE_ENV, offsiteEnv(input.offsite))] : []),
    ],
    steps: [{ name: "backups", script: `install -d -m 0700 ${PATHS.backups}\nsystemctl daemon-reload\nsystemctl enable --now studyhost-backup.timer` }],
  };
}
