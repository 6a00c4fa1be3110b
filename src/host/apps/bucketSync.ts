// Data fetched from a bucket at every boot, before the app starts (seed 003: ViewBovis pulls its
// production data from object storage with a systemd service at boot), and optionally again on a
// schedule: `rclone sync` mirrors the bucket (or a prefix of it) into a folder of the app's state.
//
// The sync runs as the app's user, so the files are the app's and root never writes into a folder the
// app controls (where a planted symlink could point root's writes elsewhere). The credentials sit in a
// root-only env file that systemd reads before it drops to that user.
//
// A failed fetch is loud (the unit fails, studyhost-alert runs) but does not keep the app down: the
// fetch is pulled in by multi-user.target, not by the app (no Requires=), and Before= only orders the
// two. So the app waits for the fetch at boot, at most its timeout, then starts, on the copy from the
// last boot if this one failed: stale data beats no service, and the alert says so.
import type { StudyConfig } from "../../config/load";
import { sandbox } from "./service";
import { appPaths } from "./paths";
import { ALERT_ON_FAILURE } from "../system/base";
import { envFile } from "../document/env";
import { appNamed, calendarTimer } from "./jobs";
import { configFile, HostPart, PATHS, script, secretFile } from "../document/part";
import { rcloneS3Remote } from "../system/rclone";
import { toOnCalendar } from "../schedule";
import { fillAsset, hostAsset } from "../document/template";

/** A fetch as the host runs it: the config's entry with its app resolved. */
export type Fetch = StudyConfig["fetch"][number];

export const FETCH_SCRIPT = `${PATHS.sbin}/studyhost-fetch`;

/**
 * The sync, the same for every fetch: what to fetch comes from the environment (the unit's env file:
 * FETCH_NAME, FETCH_SOURCE as remote:bucket/prefix, FETCH_DEST, and the rclone remote SOURCE).
 */
export const FETCH_SH = hostAsset(__dirname, "bucket-sync.sh");

export interface FetchPaths {
  /** The systemd units' name, without .service / .timer. */
  readonly unit: string;
  /** Root-only: the bucket's credentials. */
  readonly envFile: string;
  readonly dest: string;
}

export function fetchPaths(fetch: Pick<Fetch, "name" | "app" | "dest">): FetchPaths {
  return {
    unit: `studyhost-fetch-${fetch.name}`,
    envFile: `${PATHS.etc}/fetch-${fetch.name}.env`,
    dest: `${appPaths(fetch.app).state}/${fetch.dest}`,
  };
}

/** The env file of one fetch: where from, where to, and the rclone remote with its credentials. */
export function fetchEnv(fetch: Fetch, secretAccessKey: string | undefined): Record<string, string> {
  return {
    FETCH_NAME: fetch.name,
    FETCH_SOURCE: `source:${fetch.bucket}${fetch.prefix ? `/${fetch.prefix.replace(/\/+$/, "")}` : ""}`,
    FETCH_DEST: fetchPaths(fetch).dest,
    ...rcloneS3Remote("SOURCE", { endpoint: fetch.endpoint, region: fetch.region, accessKeyId: fetch.accessKeyId, secretAccessKey }),
  };
}

function fetchUnit(fetch: Fetch): string {
  const p = appPaths(fetch.app);
  const f = fetchPaths(fetch);
  return fillAsset(__dirname, "studyhost-fetch.service", {
    APP: fetch.app,
    FETCH: fetch.name,
    BUCKET: fetch.bucket,
    APP_UNIT: p.unit,
    DATA_DIR: PATHS.data,
    ALERT_ON_FAILURE,
    ENV_FILE: f.envFile,
    FETCH_SCRIPT,
    TIMEOUT_MINUTES: String(fetch.timeoutMinutes),
    SANDBOX: sandbox([p.state]),
  });
}

/** The files and the provisioning step for every fetch in the config (nothing when there are none). */
export function fetchPart(config: StudyConfig): HostPart {
  if (config.fetch.length === 0) return {};
  const files = config.fetch.flatMap((fetch) => {
    const f = fetchPaths(fetch);
    return [
      secretFile(f.envFile, envFile(fetchEnv(fetch, config.fetchSecretAccessKeys[fetch.name]))),
      configFile(`${PATHS.units}/${f.unit}.service`, fetchUnit(fetch)),
      ...(fetch.every
        ? [
            configFile(
              `${PATHS.units}/${f.unit}.timer`,
              calendarTimer(`${fetch.app}: re-sync of fetch ${fetch.name} (${fetch.every})`, toOnCalendar(fetch.every)),
            ),
          ]
        : []),
    ];
  });
  const units = config.fetch.map((fetch) => `${fetchPaths(fetch).unit}.service`);
  const timers = config.fetch.filter((fetch) => fetch.every).map((fetch) => `${fetchPaths(fetch).unit}.timer`);
  const apps = [...new Set(config.fetch.map((fetch) => appPaths(appNamed(config, fetch.app).name).unit))];
  return {
    packages: ["rclone"],
    files: [script(FETCH_SCRIPT, FETCH_SH), ...files],
    steps: [
      {
        name: "fetch",
        // The app step has already started the app: fetch now, then restart it onto the data.
        script: [
          "systemctl daemon-reload",
          ...units.map((u) => `systemctl enable ${u}`),
          ...timers.map((t) => `systemctl enable --now ${t}`),
          ...units.map((u) => `systemctl start ${u}`),
          `systemctl try-restart ${apps.join(" ")}`,
        ].join("\n"),
      },
    ],
  };
}

/** The fetches as the host manifest lists them (no credentials), for operators. */
export function fetchManifest(config: StudyConfig): object[] {
  return config.fetch.map((fetch) => {
    const f = fetchPaths(fetch);
    return {
      name: fetch.name,
      app: fetch.app,
      source: fetchEnv(fetch, undefined).FETCH_SOURCE.replace(/^source:/, ""),
      endpoint: fetch.endpoint ?? "AWS S3",
      dest: f.dest,
      unit: `${f.unit}.service`,
      every: fetch.every ? { schedule: fetch.every, onCalendar: toOnCalendar(fetch.every), timer: `${f.unit}.timer` } : null,
      credentials: fetch.accessKeyId ? "access key" : "none (public bucket)",
    };
  });
}
