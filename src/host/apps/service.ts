// The study's app on its host: a system user, the FHS layout of seed 001 (config in /etc/<app>, code in
// /srv/<app>, state on the data volume, logs in /var/log/<app>), the code from a git ref or a pip
// requirement in a venv (or a container image), setup and migrations before start, and a sandboxed
// systemd unit that restarts it.
import type { AppConfig, ContainerAppConfig, PythonAppConfig } from "../../config/schema";
import { configFile, HostPart, PATHS, script, secretFile } from "../document/part";
import { q } from "../document/shell";
import { envFile } from "../document/env";
import { assetPart, fillAsset } from "../document/template";
import { requireDataVolume } from "../system/volume";
import { configFileContents, configFileMounts, configFileSetup, frontendCheckout } from "./configFiles";
import { DOCKER_NETWORK } from "./dockerNetwork";
import { AppPaths, appPaths } from "./paths";

export interface AppInput {
  readonly app: AppConfig;
  /** Secrets and database URL, plus the app's own env. */
  readonly env: Record<string, string>;
  readonly vcpus: number;
  /** PostgreSQL runs on this host too: fewer gunicorn workers, and start after it. */
  readonly sharesHostWithPostgres: boolean;
  /**
   * More units the app starts after at boot: the accessory databases whose URL it gets (an app that
   * checks its database at start, as CamCOPS does, fails otherwise when they race).
   * @default []
   */
  readonly after?: readonly string[];
}

/**
 * The [Unit] line every unit of the app (its own, its jobs') carries: it starts only with the data
 * volume mounted and, with studyhost:logsOnDataVolume, with its log folder on it (src/host/system/logVolume.ts),
 * so its logs never go to the boot disk's folder underneath.
 */
export const appMounts = (p: AppPaths) => `RequiresMountsFor=${PATHS.data} ${p.logs}`;

/** Written by the deploy step: the commit a git-installed app runs. */
export const revisionEnv = (p: AppPaths) => `${p.etc}/revision.env`;

/** gunicorn's (2 x cores) + 1, less when PostgreSQL shares the machine. */
export function gunicornWorkers(vcpus: number, sharesHostWithPostgres: boolean): number {
  return sharesHostWithPostgres ? Math.max(2, vcpus + 1) : 2 * vcpus + 1;
}

/** Where the code runs from: the git checkout, or the state folder for a pip-installed app. */
export function workingDirectory(app: PythonAppConfig, p: AppPaths): string {
  return "git" in app.source ? `${p.code}/src` : p.state;
}

/** The start command with its program resolved inside the venv (systemd needs an absolute path). */
export function execStart(start: string, venv: string): string {
  const [program, ...rest] = start.trim().split(/\s+/);
  const resolved = program.startsWith("/") ? program : `${venv}/bin/${program}`;
  // systemd expands %-specifiers in ExecStart: a literal % must be written %%.
  return [resolved, ...rest].join(" ").replace(/%/g, "%%");
}

/**
 * The [Service] settings that confine the app's processes (and its scheduled jobs and fetches, which
 * run as the same user): a read-only system where only `writable` may change.
 */
export const sandbox = (writable: readonly string[]) => assetPart(__dirname, "sandbox.service.part", { WRITABLE: writable.join(" ") });

/**
 * Who and where a Python app's processes run, the app's own and its scheduled jobs': its user, its
 * code's folder, its env file, its venv first on PATH, STATE_DIR for its state.
 */
export function pythonProcess(app: PythonAppConfig, p: AppPaths): string {
  return assetPart(__dirname, "python-process.service.part", {
    APP: app.name,
    WORKING_DIRECTORY: workingDirectory(app, p),
    ENV_FILE: p.envFile,
    REVISION_ENV: revisionEnv(p),
    VENV: p.venv,
    STATE_DIR: p.state,
  });
}

function pythonUnit(app: PythonAppConfig, p: AppPaths, input: AppInput): string {
  const after = [...(input.sharesHostWithPostgres ? ["postgresql.service"] : []), ...(input.after ?? [])];
  return fillAsset(__dirname, "python-app.service", {
    APP: app.name,
    AFTER: after.map((u) => ` ${u}`).join(""),
    APP_MOUNTS: appMounts(p),
    PYTHON_PROCESS: pythonProcess(app, p),
    WORKERS: String(gunicornWorkers(input.vcpus, input.sharesHostWithPostgres)),
    EXEC_START: execStart(app.start, p.venv),
    LOGS: p.logs,
    SANDBOX: sandbox([p.state, p.logs]),
  });
}

/** docker-user.env: APP_UID and APP_GID, written at deploy (the uid exists only once the user does). */
export const dockerUserEnv = (p: AppPaths) => `${p.etc}/docker-user.env`;

/**
 * How every container of the app runs, the app's own and its scheduled jobs': options for `docker run`
 * after the user option (which the caller writes: systemd and bash quote it differently), each a
 * separate word with nothing to quote.
 */
export function containerRunOptions(app: ContainerAppConfig, p: AppPaths): string[] {
  return [
    // `host` (the default): the host's network (as seed 003 runs ViewBovis): the app reaches
    // PostgreSQL on localhost, and Docker publishes no port past the host firewall (a top complaint of
    // Docker users). `private`: studyhost's Docker network, where the accessories (MongoDB) are
    // reached by name; the app's own unit then publishes its port on 127.0.0.1 only, for nginx
    // (containerUnit), so still nothing past the host firewall. Host stays the default so existing
    // stacks render as before, and because a private container cannot reach the host's loopback
    // (PostgreSQL on the app host, MariaDB).
    app.network === "private" ? `--network ${DOCKER_NETWORK.name}` : "--network host",
    // tini (docker-init, shipped with Docker) as the container's PID 1: it passes SIGTERM on to the
    // app and reaps zombies. The kernel gives a PID 1 no default signal actions, so an app with no
    // SIGTERM handler of its own (Node's Auspice, a job's `sh -c`) ignored `docker stop` and was
    // killed only after its 20 s: every restart, deploy and fetch waited that long for nothing.
    "--init",
    "--cap-drop ALL",
    // No copy in Docker's own log store: the unit (attached to the container) already sends every line
    // to the journal, which is capped, while json-file keeps them unrotated in /var/lib/docker (on the
    // boot disk). `docker logs` has nothing to show: journalctl -u <unit> has it all.
    "--log-driver none",
    "--security-opt no-new-privileges",
    `--env-file ${p.etc}/docker.env`,
    ...app.volumes.map((v) => `-v ${p.state}/${v.name}:${v.containerPath}${v.readOnly ? ":ro" : ""}`),
    `-v ${p.logs}:/var/log/${app.name}`,
    // Where that log folder is inside, so a command can name it whatever the app's name (a staging copy).
    `--env LOG_DIR=/var/log/${app.name}`,
    ...configFileMounts(app, p),
  ];
}

/**
 * One argument of ExecStart, exactly as given: systemd would otherwise expand $VAR and %-specifiers
 * itself (a `sh -c '... $PORT'` must reach the container's shell intact), so they are doubled.
 */
export function systemdArgument(arg: string): string {
  const literal = arg.replace(/\$/g, "$$$$").replace(/%/g, "%%");
  return /^[A-Za-z0-9_./:=@+-]+$/.test(literal) ? literal : `"${literal.replace(/(["\\])/g, "\\$1")}"`;
}

function containerUnit(app: ContainerAppConfig, p: AppPaths, after: readonly string[]): string {
  const run = [
    "/usr/bin/docker run --rm",
    `--name ${app.name}`,
    // As the app's own user, never root: root in a host-network container could read the metadata
    // service (and the secrets in user data) past the host firewall's root-only rule.
    "--user ${APP_UID}:${APP_GID}",
    ...containerRunOptions(app, p),
    ...(app.network === "private" ? [`--publish 127.0.0.1:${app.port}:${app.port}`] : []),
    app.image,
    ...(app.command ?? []).map(systemdArgument),
  ];
  return fillAsset(__dirname, "container-app.service", {
    APP: app.name,
    NETWORK: app.network === "private" ? ` ${DOCKER_NETWORK.unit}` : "",
    AFTER: after.map((u) => ` ${u}`).join(""),
    APP_MOUNTS: appMounts(p),
    DOCKER_USER_ENV: dockerUserEnv(p),
    DOCKER_RUN: run.join(" "),
  });
}

/**
 * How the deploy step runs pip as the app's user: with PIP_INDEX_URL when the app names a package index
 * (an institution's mirror), for these pip calls only. pip ignores a plain-http index unless its host
 * is trusted: naming one is trusting it, so an http:// URL also sets PIP_TRUSTED_HOST.
 */
export function pipCommand(app: PythonAppConfig, p: AppPaths): string {
  const as = `runuser -u ${app.name} --`;
  if (!app.pipIndexUrl) return `${as} ${p.venv}/bin/pip`;
  const url = new URL(app.pipIndexUrl);
  const trusted = url.protocol === "http:" ? ` PIP_TRUSTED_HOST=${q(url.host)}` : "";
  return `${as} env PIP_INDEX_URL=${q(app.pipIndexUrl)}${trusted} ${p.venv}/bin/pip`;
}

function pythonDeploy(app: PythonAppConfig, p: AppPaths): string {
  const as = `runuser -u ${app.name} --`;
  const pip = pipCommand(app, p);
  const install =
    "git" in app.source
      ? assetPart(__dirname, "deploy-from-git.bash", {
          AS_APP: as,
          CODE_DIR: p.code,
          GIT: q(app.source.git),
          REF: q(app.source.ref),
          PIP: pip,
          REVISION_ENV: revisionEnv(p),
        })
      : `${pip} install --quiet ${q(app.source.pip)}`;
  const packages = app.packages.length ? `${pip} install --quiet ${app.packages.map(q).join(" ")}` : "# no extra packages";
  const inApp = (cmd: string) => `(cd ${workingDirectory(app, p)} && ${as} env PATH="${p.venv}/bin:$PATH" bash -c ${q(cmd)})`;
  return fillAsset(__dirname, "studyhost-deploy-python.sh", {
    APP: app.name,
    VENV: p.venv,
    AS_APP: as,
    SYSTEM_SITE_PACKAGES: app.systemSitePackages ? " --system-site-packages" : "",
    INSTALL: install,
    PACKAGES: packages,
    CONFIG_FILES: configFileSetup(app, p, workingDirectory(app, p)),
    FRONTEND: frontendCheckout(app, p),
    ENV_FILE: p.envFile,
    STATE_DIR: p.state,
    SETUP: app.setup.map((c) => `  ${inApp(c)}`).join("\n") || "  : # no setup commands",
    MIGRATE: app.migrate.map(inApp).join("\n") || ": # no migrations",
    UNIT: p.unit,
  });
}

/**
 * Pulls IMAGE, or, when the registry cannot be reached (an outage, a rate limit), goes on with the copy
 * this host already has, with a warning: a registry being down must not stop a redeploy or a restart of
 * a host that has its image. The pull comes first, so a moving tag (:prod) still gets its update; with
 * no copy on the host the step fails as before.
 */
export function pullImage(image: string): string {
  const w = q(image);
  return `if ! docker pull --quiet ${w}; then
  docker image inspect ${w} >/dev/null 2>&1 || { echo "cannot pull "${w}" and this host has no copy of it" >&2; exit 1; }
  echo "warning: cannot pull "${w}": using the copy already on this host ($(docker image inspect --format '{{.Id}}' ${w}))" >&2
fi`;
}

function containerDeploy(app: ContainerAppConfig, p: AppPaths): string {
  return fillAsset(__dirname, "studyhost-deploy-container.sh", {
    APP: app.name,
    VOLUMES: app.volumes.map((v) => `install -d -o ${app.name} -g ${app.name} ${p.state}/${v.name}`).join("\n") || ": # no volumes",
    DOCKER_USER_ENV: dockerUserEnv(p),
    CONFIG_FILES: configFileSetup(app, p),
    PULL_IMAGE: pullImage(app.image),
    UNIT: p.unit,
  });
}

/** Docker's --env-file takes NAME=value lines literally: no quotes, no escapes, no newlines. */
function dockerEnv(env: Record<string, string>): string {
  for (const [k, v] of Object.entries(env)) {
    if (/[\r\n]/.test(v)) throw new Error(`studyhost:app.env.${k}: a container's environment value cannot hold a newline`);
  }
  return (
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n"
  );
}

export function appPart(input: AppInput): HostPart {
  const { app } = input;
  const p = appPaths(app.name);
  const logrotate = fillAsset(__dirname, "app.logrotate", { LOGS: p.logs });
  // First: with no data volume the state folder (and a SQLite file) would be made on the boot disk.
  const layout = assetPart(__dirname, "app-layout.bash", {
    REQUIRE_DATA_VOLUME: requireDataVolume(`${app.name}'s state`),
    APP: app.name,
    CODE_DIR: p.code,
    ETC_DIR: p.etc,
    STATE_DIR: p.state,
    LOGS: p.logs,
    DEPLOY: p.deploy,
  });
  const files = [
    // systemd reads EnvironmentFile as root before it drops to the app's user: root-only is enough.
    secretFile(p.envFile, envFile(input.env)),
    configFile(`/etc/logrotate.d/${app.name}`, logrotate),
    ...configFileContents(app, p, input.env),
  ];
  if (app.kind === "python") {
    return {
      packages: ["python3-venv", "python3-pip", "git", ...app.aptPackages],
      files: [...files, configFile(`${PATHS.units}/${p.unit}`, pythonUnit(app, p, input)), script(p.deploy, pythonDeploy(app, p))],
      steps: [{ name: "app", script: layout }],
    };
  }
  return {
    packages: ["docker.io"],
    files: [
      ...files,
      secretFile(`${p.etc}/docker.env`, dockerEnv(input.env)),
      configFile(`${PATHS.units}/${p.unit}`, containerUnit(app, p, input.after ?? [])),
      script(p.deploy, containerDeploy(app, p)),
    ],
    steps: [{ name: "app", script: `systemctl enable --now docker.service\n${layout}` }],
  };
}
