// The accessory databases of studyhost:accessories (MariaDB, MongoDB), assembled for the app host:
// their parts, the private Docker network when something uses it, their backups (run by the host's
// backup timer after the main database's, or by a timer of their own on a host without one), the
// URLs the primary app gets in its env, and what the manifest says. Accessories always run on the app
// host (on two-server too, beside the app; PostgreSQL stays on its own host).
import { studyApps } from "../config/apps";
import type { StudyConfig } from "../config/load";
import type { AppConfig } from "../config/schema";
import { ALERT_ON_FAILURE } from "./base";
import { backupTimer, PRUNE_PY, PRUNE_SCRIPT } from "./backup";
import { DOCKER_NETWORK, dockerNetworkPart } from "./dockerNetwork";
import { MARIADB, mariadbPart, mariadbUrl } from "./mariadb";
import { MONGODB, mongodbPart, mongoUrl } from "./mongodb";
import { configFile, HostPart, PATHS, script } from "./part";

/** The generated passwords (Pulumi secrets, components/appServer.ts), for the configured accessories. */
export interface AccessorySecrets {
  readonly mariadb?: { readonly appPassword: string; readonly analystPassword: string };
  readonly mongodb?: { readonly rootPassword: string; readonly appPassword: string };
}

/** Names decided from the config: the database (default the app's name), its users. */
export function accessoryNames(config: Pick<StudyConfig, "accessories" | "app">) {
  const { mariadb, mongodb } = config.accessories;
  return {
    mariadb: mariadb ? { database: mariadb.database ?? config.app.name, appUser: mariadb.database ?? config.app.name, analystUser: `${mariadb.database ?? config.app.name}_analyst` } : undefined,
    mongodb: mongodb ? { image: mongodb.image, database: mongodb.database ?? config.app.name, appUser: mongodb.database ?? config.app.name } : undefined,
  };
}

/** The units of the configured accessories, which the primary app starts after. */
export function accessoryUnits(config: Pick<StudyConfig, "accessories">): string[] {
  return [...(config.accessories.mariadb ? ["mariadb.service"] : []), ...(config.accessories.mongodb ? [MONGODB.unit] : [])];
}

export const hasAccessories = (config: Pick<StudyConfig, "accessories">) => Boolean(config.accessories.mariadb || config.accessories.mongodb);

/** Whether the host needs studyhost's private Docker network: MongoDB, or a container app that joins it. */
export function usesDockerNetwork(config: StudyConfig): boolean {
  return Boolean(config.accessories.mongodb) || studyApps(config).some((a) => a.app.kind === "container" && a.app.network === "private");
}

/** MARIADB_URL and MONGO_URL for the primary app (never its staging copy or the sites). */
export function accessoryEnv(config: StudyConfig, secrets: AccessorySecrets, app: AppConfig): Record<string, string> {
  const names = accessoryNames(config);
  const env: Record<string, string> = {};
  if (names.mariadb) env.MARIADB_URL = mariadbUrl({ ...names.mariadb, appPassword: need(secrets.mariadb, "mariadb").appPassword });
  if (names.mongodb) env.MONGO_URL = mongoUrl({ ...names.mongodb, appPassword: need(secrets.mongodb, "mongodb").appPassword }, app.kind === "container" && app.network === "private");
  return env;
}

function need<T>(value: T | undefined, what: string): T {
  if (!value) throw new Error(`renderAppHost: studyhost:accessories.${what} is configured but its passwords were not given`);
  return value;
}

export interface AccessoriesInput {
  readonly config: StudyConfig;
  readonly secrets: AccessorySecrets;
  readonly memoryGb: number;
  /** The primary app's unit, stopped during a restore. */
  readonly appUnit: string;
  /** The host renders the shared backup timer (studyhost-backup): the accessories' backups join it. */
  readonly sharedBackupTimer: boolean;
}

export interface AccessoriesParts {
  /** The network (if used) and each accessory, in provisioning order. */
  readonly parts: HostPart[];
  /** Commands the shared backup timer runs after the main database's backup (with `sharedBackupTimer`). */
  readonly backupCommands: string[];
}

const OWN_BACKUP_UNIT = "studyhost-accessories-backup";

/**
 * A host without the shared backup timer (the two-server app host: PostgreSQL's backups run on the
 * database host) gets a timer of its own for the accessories, and the shared pruning script.
 */
function ownBackupTimer(config: StudyConfig, commands: readonly string[]): HostPart {
  const service = `[Unit]
Description=studyhost backup of the accessory databases
RequiresMountsFor=${PATHS.data}
${ALERT_ON_FAILURE}

[Service]
Type=oneshot
${commands.map((c) => `ExecStart=${c}\n`).join("")}Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
`;
  return {
    files: [
      script(PRUNE_SCRIPT, PRUNE_PY),
      configFile(`${PATHS.units}/${OWN_BACKUP_UNIT}.service`, service),
      configFile(`${PATHS.units}/${OWN_BACKUP_UNIT}.timer`, backupTimer(config.backups.schedule)),
    ],
    steps: [{ name: "accessories-backups", script: `install -d -m 0700 ${PATHS.backups}\nsystemctl daemon-reload\nsystemctl enable --now ${OWN_BACKUP_UNIT}.timer` }],
  };
}

export function accessoriesParts(input: AccessoriesInput): AccessoriesParts {
  const { config } = input;
  const names = accessoryNames(config);
  const keep = { daily: config.backups.keepDaily, weekly: config.backups.keepWeekly, monthly: config.backups.keepMonthly };
  const parts: HostPart[] = [];
  const commands: string[] = [];
  if (usesDockerNetwork(config)) parts.push(dockerNetworkPart());
  if (names.mariadb) {
    const s = need(input.secrets.mariadb, "mariadb");
    parts.push(mariadbPart({ users: { ...names.mariadb, appPassword: s.appPassword, analystPassword: s.analystPassword }, keep, appUnit: input.appUnit }));
    commands.push(MARIADB.backup);
  }
  if (names.mongodb) {
    const s = need(input.secrets.mongodb, "mongodb");
    parts.push(mongodbPart({ image: names.mongodb.image, users: { database: names.mongodb.database, appUser: names.mongodb.appUser, appPassword: s.appPassword, rootPassword: s.rootPassword }, memoryGb: input.memoryGb, keep, appUnit: input.appUnit }));
    commands.push(MONGODB.backup);
  }
  if (commands.length && !input.sharedBackupTimer) parts.push(ownBackupTimer(config, commands));
  return { parts, backupCommands: input.sharedBackupTimer ? commands : [] };
}

/** What the manifest lists: each accessory, where its data and backups are, how it is reached. */
export function accessoriesManifest(config: StudyConfig): object {
  const names = accessoryNames(config);
  return {
    ...(names.mariadb
      ? { mariadb: { database: names.mariadb.database, appUser: names.mariadb.appUser, analystUser: names.mariadb.analystUser, listen: `127.0.0.1:${MARIADB.port}`, data: MARIADB.datadir, backups: MARIADB.backups, env: "MARIADB_URL" } }
      : {}),
    ...(names.mongodb
      ? {
          mongodb: {
            image: names.mongodb.image,
            database: names.mongodb.database,
            appUser: names.mongodb.appUser,
            network: DOCKER_NETWORK.name,
            address: `${MONGODB.alias} / ${MONGODB.address}:${MONGODB.port}`,
            published: false,
            data: MONGODB.datadir,
            backups: MONGODB.backups,
            unit: MONGODB.unit,
            env: "MONGO_URL",
          },
        }
      : {}),
  };
}
