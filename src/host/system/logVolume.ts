// The host's log folders on the data volume (studyhost:logsOnDataVolume): the journal, nginx's logs and
// each app's /var/log/<app> become bind mounts of folders under /var/lib/studyhost/logs. Why: logs carry
// participants' data (an app's output, addresses and paths in access logs), seed 002 asks for "data and
// logs on encrypted storage" ("Configuring logs", "cryptfs"), and on DigitalOcean only the volume is
// encrypted at rest, not the droplet's own disk. The paths stay where operators and tools look for them.
//
// Each folder is a mount unit wanted by local-fs.target and ordered after the data volume: at boot it is
// in place before any ordinary service starts (they all come after local-fs.target), and before journald
// moves the journal from /run to /var (systemd-journal-flush.service has RequiresMountsFor=/var/log/journal).
// Every writer requires its folder's mount (journal-flush by itself, nginx by a drop-in, the apps and
// their jobs in their units), so when the volume or its folder is missing at boot nothing writes these
// logs to the boot disk: the journal stays in memory and nginx and the apps do not start (the apps would
// not anyway). A host made before the option was set keeps its logs where they are: machines are not
// re-provisioned when their user data changes.
import type { HostFile } from "../document/part";
import { configFile, HostPart, PATHS, script } from "../document/part";
import { requireDataVolume } from "./volume";
import { assetPart, fillAsset, hostAsset } from "../document/template";

/** Where the folders live on the data volume: /var/lib/studyhost/logs/<name>. */
export const LOGS_ON_VOLUME = `${PATHS.data}/logs`;

export interface LogFolder {
  /** The folder its writers use, e.g. /var/log/nginx. */
  readonly path: string;
  /** Settings files the move needs (the journal's: no copy to rsyslog). */
  readonly files?: readonly HostFile[];
  /** Shell run before the folder's files move to the volume: the writer lets go of them. */
  readonly release?: string;
  /** Shell run once the folder is on the volume: the writer reopens its files there. */
  readonly reopen?: string;
  /** Units that write there and have no RequiresMountsFor of their own: each gets a drop-in. */
  readonly writers?: readonly string[];
}

/**
 * journald lets go of /var/log/journal (writing to /run meanwhile), then flushes back to it. Ubuntu's
 * images also run rsyslog, which writes a text copy of the journal (/var/log/syslog, auth.log) on the
 * boot disk: journald stops forwarding to it (read at the base step's restart of journald), and rsyslog
 * (its socket input only, no imjournal) is left with the kernel's messages. It is not masked: its
 * logrotate rule signals it, and would fail on a masked unit.
 */
export const JOURNAL_LOGS: LogFolder = {
  path: "/var/log/journal",
  files: [
    configFile(
      "/etc/systemd/journald.conf.d/studyhost-logs.conf",
      "# studyhost: the journal is on the data volume; no text copy to syslog on the boot disk.\n[Journal]\nForwardToSyslog=no\n",
    ),
  ],
  release: "journalctl --relinquish-var",
  // fail2ban (backend systemd) watches the journal's folder it first opened: the boot disk's, under the
  // mount now. Restarted, it reads the volume's; otherwise it would see no failed SSH login until a reboot.
  reopen: "systemd-tmpfiles --create --prefix /var/log/journal\njournalctl --flush\nsystemctl try-restart fail2ban.service",
};

/** nginx reopens its log files on USR1 (what Debian's logrotate rule sends). */
export const NGINX_LOGS: LogFolder = {
  path: "/var/log/nginx",
  reopen: "if systemctl is-active --quiet nginx.service; then systemctl kill --signal=USR1 --kill-whom=main nginx.service; fi",
  writers: ["nginx.service"],
};

/** The folder on the volume that holds PATH: /var/log/nginx is /var/lib/studyhost/logs/nginx. */
export function volumeFolder(path: string): string {
  return `${LOGS_ON_VOLUME}/${path.replace(/^\/var\/log\//, "")}`;
}

/**
 * The mount unit's name for PATH, as `systemd-escape --path --suffix=mount` gives it. The folders are
 * /var/log/ plus a name of letters, digits and _ (the apps' names are slugs), so only / needs escaping;
 * anything else is refused rather than escaped wrong.
 */
export function mountUnitName(path: string): string {
  if (!/^\/var\/log\/[a-z][a-z0-9_]*$/.test(path)) throw new Error(`mountUnitName: ${path} is not /var/log/<name> with a name of a-z, 0-9 and _`);
  return `${path.slice(1).replace(/\//g, "-")}.mount`;
}

/**
 * Written by the step once this machine keeps its logs on the volume. Before it exists (the packages'
 * first start, before provisioning) the mounts are skipped; after, a missing folder on the volume (a
 * new, empty volume) fails the mount, and with it every writer, rather than send the logs back to the
 * boot disk.
 */
export const LOGS_MOVED_FLAG = `${PATHS.etc}/logs-on-volume`;

/** `studyhost-move-logs FOLDER TARGET`: see MOVE_LOGS_SH. */
export const MOVE_LOGS = `${PATHS.sbin}/studyhost-move-logs`;

/**
 * Moves the files the boot disk holds in FOLDER into TARGET, whether or not something is mounted on
 * FOLDER now: it works on the boot disk's own folder, seen through a non-recursive bind of its
 * filesystem in a mount namespace of its own, so it never deletes what the mount shows (the volume).
 * A text log (*.log) that exists on both sides (a volume kept from a replaced machine meets this
 * machine's first lines) gets the boot disk's lines appended, so it stays one file that logrotate and
 * analytics know; any other file of the same name is kept beside as NAME.~N~.
 */
const MOVE_LOGS_SH = hostAsset(__dirname, "move-logs.sh");

function mountUnit(folder: LogFolder): string {
  return fillAsset(__dirname, "log-folder.mount", {
    FOLDER: folder.path,
    DATA: PATHS.data,
    MOVED_FLAG: LOGS_MOVED_FLAG,
    VOLUME_FOLDER: volumeFolder(folder.path),
  });
}

/**
 * Puts FOLDER on the volume, and moves there what the boot disk holds under it. Every run does all of it
 * (each part is a no-op when done), so a run that stopped half-way, or a writer that mounted the folder
 * first, is finished by the next.
 */
function moveStep(folder: LogFolder): string {
  // RELEASE and REOPEN are the writer's lines, each ending in a newline, or nothing: they start the line
  // they come before.
  const lines = (shell?: string) => (shell ? `${shell}\n` : "");
  return assetPart(__dirname, "log-folder-step.bash", {
    FOLDER: folder.path,
    UNIT: mountUnitName(folder.path),
    VOLUME_FOLDER: volumeFolder(folder.path),
    RELEASE: lines(folder.release),
    MOVE_LOGS,
    REOPEN: lines(folder.reopen),
  });
}

/** The mount units, the writers' drop-ins, and the step that moves the folders (before the apps' steps). */
export function logVolumePart(folders: readonly LogFolder[]): HostPart {
  const writers = [...new Set(folders.flatMap((f) => f.writers ?? []))];
  const dropIns = writers.map((unit) => {
    const paths = folders.filter((f) => f.writers?.includes(unit)).map((f) => f.path);
    return configFile(`${PATHS.units}/${unit}.d/studyhost-logs.conf`, `[Unit]\nRequiresMountsFor=${paths.join(" ")}\n`);
  });
  return {
    files: [
      ...folders.flatMap((f) => [configFile(`${PATHS.units}/${mountUnitName(f.path)}`, mountUnit(f)), ...(f.files ?? [])]),
      ...dropIns,
      script(MOVE_LOGS, MOVE_LOGS_SH),
    ],
    steps: [
      {
        name: "logs-on-volume",
        script: assetPart(__dirname, "logs-on-volume-step.bash", {
          REQUIRE_DATA_VOLUME: requireDataVolume("the logs (studyhost:logsOnDataVolume)"),
          LOGS_ON_VOLUME,
          ETC: PATHS.etc,
          MOVED_FLAG: LOGS_MOVED_FLAG,
          FOLDERS: folders.map(moveStep).join("\n"),
        }),
      },
    ],
  };
}
