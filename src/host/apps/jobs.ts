// Scheduled jobs (seed 002's daily analysis pipeline and periodic push jobs, there run from cron): each
// a systemd timer and a oneshot service that runs the command as its app (user, env file, working
// folder and venv, or the app's image), with the app's sandbox. Output goes to the journal and is
// appended to /var/log/<app>/<job>.log, which the app's logrotate already rotates. A failed or timed-out
// run is loud the way a failed backup is: the unit fails and studyhost-alert runs.
//
// Why timers rather than cron: a run missed while the machine was off happens at the next boot
// (Persistent=), a run still going when the next is due is not started twice (the unit is still
// active), a timeout stops it, and failure has one place to be reported from.
import { studyApps } from "../../config/apps";
import type { StudyConfig } from "../../config/load";
import type { AppConfig, ContainerAppConfig, PythonAppConfig } from "../../config/schema";
import { appMounts, containerRunOptions, dockerUserEnv, pythonProcess, sandbox } from "./service";
import { AppPaths, appPaths } from "./paths";
import { ALERT_ON_FAILURE } from "../system/base";
import { DOCKER_NETWORK } from "./dockerNetwork";
import { configFile, HostPart, PATHS, script } from "../document/part";
import { toOnCalendar } from "../schedule";
import { q } from "../document/shell";
import { fillAsset, hostAsset } from "../document/template";

/** A job as the host runs it: the config's entry with its app resolved. */
export type Job = StudyConfig["jobs"][number];

/** Runs a job's script with its output in the journal and in the job's log file. */
export const RUN_JOB = `${PATHS.lib}/run-job`;

export const RUN_JOB_SH = hostAsset(__dirname, "run-job.sh");

export interface JobPaths {
  /** The systemd units' name, without .service / .timer. */
  readonly unit: string;
  /** The script holding the job's command. */
  readonly script: string;
  readonly log: string;
}

export function jobPaths(job: Pick<Job, "name" | "app">): JobPaths {
  return {
    unit: `studyhost-job-${job.name}`,
    script: `${PATHS.lib}/jobs/${job.name}.sh`,
    log: `${appPaths(job.app).logs}/${job.name}.log`,
  };
}

/** The study's app called `name`, the primary or another on the host (the schema has checked that it exists). */
export function appNamed(config: StudyConfig, name: string): AppConfig {
  const found = studyApps(config).find((a) => a.app.name === name);
  if (!found) throw new Error(`no app named ${name}`);
  return found.app;
}

/**
 * The command as written, in a file: no quoting for systemd to undo. Under `set -e -o pipefail`, so a
 * job that fails half-way fails (cron's `sh -c` would report only the last command's status).
 */
function pythonJobScript(job: Job, index: number): string {
  return `#!/bin/bash
# studyhost job ${job.name} (studyhost:jobs.${index}.command), run as ${job.app} by ${jobPaths(job).unit}.service.
# Written by studyhost; edits are overwritten at the next provisioning.
set -eo pipefail
${job.command.trim()}
`;
}

/**
 * A container app's job runs in a new container of the app's image (docker run --rm) rather than in the
 * running one (docker exec): it runs even while the app is down or restarting, it cannot disturb the
 * app's processes, and a timed-out job is really stopped (killing `docker exec` leaves the command
 * running inside the app's container). It gets what the app's container gets: user, env, volumes, logs.
 */
function containerJobScript(job: Job, index: number, app: ContainerAppConfig, p: AppPaths): string {
  return fillAsset(__dirname, "container-job.sh", {
    JOB: job.name,
    INDEX: String(index),
    APP: app.name,
    UNIT: jobPaths(job).unit,
    DOCKER_USER_ENV: dockerUserEnv(p),
    RUN_OPTIONS: containerRunOptions(app, p).join(" "),
    IMAGE: q(app.image),
    COMMAND: q(job.command.trim()),
  });
}

// Jobs come after the app at boot (a run caught up by Persistent= finds the app, and PostgreSQL before
// it, running), and run at a lower priority than the app: users' requests come first.
function pythonJobUnit(job: Job, app: PythonAppConfig, p: AppPaths): string {
  const j = jobPaths(job);
  return fillAsset(__dirname, "python-job.service", {
    APP: app.name,
    JOB: job.name,
    APP_UNIT: p.unit,
    APP_MOUNTS: appMounts(p),
    ALERT_ON_FAILURE,
    PYTHON_PROCESS: pythonProcess(app, p),
    RUN_JOB,
    LOG: j.log,
    SCRIPT: j.script,
    TIMEOUT_MINUTES: String(job.timeoutMinutes),
    SANDBOX: sandbox([p.state, p.logs]),
  });
}

// Like the app's own unit: root runs the docker client; the container runs as the app's user.
function containerJobUnit(job: Job, app: ContainerAppConfig, p: AppPaths): string {
  const j = jobPaths(job);
  // On the private network, as the app's unit: a timer may fire at boot before the app's unit is queued.
  return fillAsset(__dirname, "container-job.service", {
    APP: app.name,
    JOB: job.name,
    NETWORK: app.network === "private" ? ` ${DOCKER_NETWORK.unit}` : "",
    APP_UNIT: p.unit,
    APP_MOUNTS: appMounts(p),
    ALERT_ON_FAILURE,
    DOCKER_USER_ENV: dockerUserEnv(p),
    RUN_JOB,
    LOG: j.log,
    SCRIPT: j.script,
    UNIT: j.unit,
    TIMEOUT_MINUTES: String(job.timeoutMinutes),
  });
}

/** A timer for OnCalendar values; shared with the fetches' re-sync. */
export function calendarTimer(description: string, onCalendar: readonly string[]): string {
  return fillAsset(__dirname, "calendar.timer", { DESCRIPTION: description, ON_CALENDAR: onCalendar.map((c) => `OnCalendar=${c}`).join("\n") });
}

/** The files and the provisioning step for every job in the config (nothing when there are none). */
export function jobsPart(config: StudyConfig): HostPart {
  if (config.jobs.length === 0) return {};
  const files = config.jobs.flatMap((job, i) => {
    const app = appNamed(config, job.app);
    const p = appPaths(app.name);
    const j = jobPaths(job);
    return [
      script(j.script, app.kind === "python" ? pythonJobScript(job, i) : containerJobScript(job, i, app, p)),
      configFile(`${PATHS.units}/${j.unit}.service`, app.kind === "python" ? pythonJobUnit(job, app, p) : containerJobUnit(job, app, p)),
      configFile(`${PATHS.units}/${j.unit}.timer`, calendarTimer(`${app.name}: schedule of job ${job.name} (${job.schedule})`, toOnCalendar(job.schedule))),
    ];
  });
  return {
    files: [script(RUN_JOB, RUN_JOB_SH), ...files],
    steps: [
      { name: "jobs", script: ["systemctl daemon-reload", ...config.jobs.map((job) => `systemctl enable --now ${jobPaths(job).unit}.timer`)].join("\n") },
    ],
  };
}

/** The jobs as the host manifest lists them, for operators. */
export function jobsManifest(config: StudyConfig): object[] {
  return config.jobs.map((job) => {
    const j = jobPaths(job);
    return {
      name: job.name,
      app: job.app,
      schedule: job.schedule,
      onCalendar: toOnCalendar(job.schedule),
      timer: `${j.unit}.timer`,
      log: j.log,
      timeoutMinutes: job.timeoutMinutes,
    };
  });
}
