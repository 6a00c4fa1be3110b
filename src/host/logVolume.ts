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
// their jobs in their units), so when the volume is missing at boot nothing writes these logs to the boot
// disk: the journal stays in memory and nginx and the apps do not start (the apps would not anyway).
import { configFile, HostPart, PATHS } from "./part";
import { requireDataVolume } from "./volume";

/** Where the folders live on the data volume: /var/lib/studyhost/logs/<name>. */
export const LOGS_ON_VOLUME = `${PATHS.data}/logs`;

export interface LogFolder {
  /** The folder its writers use, e.g. /var/log/nginx. */
  readonly path: string;
  /** Shell run before the folder's files move to the volume: the writer lets go of them. */
  readonly release?: string;
  /** Shell run once the folder is on the volume: the writer reopens its files there. */
  readonly reopen?: string;
  /** Units that write there and have no RequiresMountsFor of their own: each gets a drop-in. */
  readonly writers?: readonly string[];
}

/** journald lets go of /var/log/journal (writing to /run meanwhile), then flushes back to it. */
export const JOURNAL_LOGS: LogFolder = {
  path: "/var/log/journal",
  release: "journalctl --relinquish-var",
  reopen: "systemd-tmpfiles --create --prefix /var/log/journal\njournalctl --flush",
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

function mountUnit(folder: LogFolder): string {
  return `[Unit]
Description=studyhost: ${folder.path} on the data volume (studyhost:logsOnDataVolume)
RequiresMountsFor=${PATHS.data}
# Made by provisioning: before that (the packages' first start) there is nothing to mount.
ConditionPathIsDirectory=${volumeFolder(folder.path)}
Before=local-fs.target

[Mount]
What=${volumeFolder(folder.path)}
Where=${folder.path}
Type=none
Options=bind

[Install]
WantedBy=local-fs.target
`;
}

/**
 * Puts FOLDER on the volume once (a no-op when it is already there): what the boot disk holds there
 * moves to the volume, then the bind mount goes over it. A file of the same name already on the volume
 * (a volume kept from a replaced machine) is kept beside it as <name>.~1~.
 */
function moveStep(folder: LogFolder): string {
  const { path } = folder;
  const target = volumeFolder(path);
  const unit = mountUnitName(path);
  return `# ${path} on the data volume (${mountUnitName(path)})
if ! mountpoint -q ${path}; then
  # mkdir, not install -d, which would reset the mode of a folder that exists.
  mkdir -p ${path} ${target}
  chown --reference=${path} ${target}
  chmod --reference=${path} ${target}
${folder.release ? `  ${folder.release.split("\n").join("\n  ")}\n` : ""}  cp -a --backup=numbered ${path}/. ${target}/
  find ${path} -mindepth 1 -delete
  systemctl start ${unit}
  mountpoint -q ${path}
${folder.reopen ? `  ${folder.reopen.split("\n").join("\n  ")}\n` : ""}fi
systemctl enable ${unit}`;
}

/** The mount units, the writers' drop-ins, and the step that moves the folders (before the apps' steps). */
export function logVolumePart(folders: readonly LogFolder[]): HostPart {
  const writers = [...new Set(folders.flatMap((f) => f.writers ?? []))];
  const dropIns = writers.map((unit) => {
    const paths = folders.filter((f) => f.writers?.includes(unit)).map((f) => f.path);
    return configFile(`${PATHS.units}/${unit}.d/studyhost-logs.conf`, `[Unit]\nRequiresMountsFor=${paths.join(" ")}\n`);
  });
  return {
    files: [...folders.map((f) => configFile(`${PATHS.units}/${mountUnitName(f.path)}`, mountUnit(f))), ...dropIns],
    steps: [
      {
        name: "logs-on-volume",
        script: `${requireDataVolume("the logs (studyhost:logsOnDataVolume)")}
install -d -m 0755 ${LOGS_ON_VOLUME}
systemctl daemon-reload
${folders.map(moveStep).join("\n")}`,
      },
    ],
  };
}
