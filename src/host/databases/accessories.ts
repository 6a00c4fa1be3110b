// The accessory databases of studyhost:accessories (MariaDB, MongoDB), assembled for the app host:
// their parts, the private Docker network when something uses it, their backups (run by the host's
// backup timer after the main database's, or by a timer of their own on a host without one), the
// URLs the primary app gets in its env, and what the manifest says. MongoDB always runs on the app host
// (a container on its private Docker network). MariaDB runs where the tier keeps its databases: on the
// app host (small, large), or on two-server's database host, with PostgreSQL when the study uses it,
// and alone with `database.engine: none` (then no PostgreSQL runs there); the app host then gets only
// the client side (mariadbClientPart).
import { requireDataVolume } from "../system/volume";
import { studyApps } from "../../config/apps";
import type { StudyConfig } from "../../config/load";
import type { AppConfig } from "../../config/schema";
import { ALERT_ON_FAILURE } from "../system/base";
import { BACKUP_EACH, BACKUP_EACH_SH, backupExecStart, backupTimer, BACKUP_TOOLS, offsitePart } from "../backups/backup";
import { DOCKER_NETWORK, dockerNetworkPart } from "../apps/dockerNetwork";
import { MARIADB, mariadbClientPart, mariadbPart, mariadbUrl } from "./mariadb";
import { MONGODB, mongodbPart, mongoUrl } from "./mongodb";
import { configFile, HostPart, PATHS, script } from "../document/part";
import { fillAsset } from "../document/template";

/** The generated passwords (Pulumi secrets, components/appServer.ts), for the configured accessories. */
export interface AccessorySecrets {
  readonly mariadb?: { readonly appPassword: string; readonly analystPassword: string };
  readonly mongodb?: { readonly rootPassword: string; readonly appPassword: string };
}

/** Names decided from the config: the database (default the app's name), its users. */
export function accessoryNames(config: Pick<StudyConfig, "accessories" | "app">) {
  const { mariadb, mongodb } = config.accessories;
  return {
    mariadb: mariadb
      ? {
          database: mariadb.database ?? config.app.name,
          appUser: mariadb.database ?? config.app.name,
          analystUser: `${mariadb.database ?? config.app.name}_analyst`,
        }
      : undefined,
    mongodb: mongodb ? { image: mongodb.image, database: mongodb.database ?? config.app.name, appUser: mongodb.database ?? config.app.name } : undefined,
  };
}

/** Where MariaDB runs: beside the app, or on the tier's database host (two-server). */
export function mariadbPlacement(config: Pick<StudyConfig, "tierSpec">): "app-host" | "database-host" {
  return config.tierSpec.databasePlacement === "own-host" ? "database-host" : "app-host";
}

/** The units of the accessories on the app host, which the primary app starts after (MariaDB on a database host is waited for by its own step). */
export function accessoryUnits(config: Pick<StudyConfig, "accessories" | "tierSpec">): string[] {
  const mariadbHere = config.accessories.mariadb && mariadbPlacement(config) === "app-host";
  return [...(mariadbHere ? ["mariadb.service"] : []), ...(config.accessories.mongodb ? [MONGODB.unit] : [])];
}

export const hasAccessories = (config: Pick<StudyConfig, "accessories">) => Boolean(config.accessories.mariadb || config.accessories.mongodb);

/** Whether the host needs studyhost's private Docker network: MongoDB, or a container app that joins it. */
export function usesDockerNetwork(config: StudyConfig): boolean {
  return Boolean(config.accessories.mongodb) || studyApps(config).some((a) => a.app.kind === "container" && a.app.network === "private");
}

/**
 * MARIADB_URL and MONGO_URL for the primary app (never its staging copy or the sites).
 * @param mariadbHost the database host's private address, where MariaDB runs there (two-server)
 */
export function accessoryEnv(config: StudyConfig, secrets: AccessorySecrets, app: AppConfig, mariadbHost?: string): Record<string, string> {
  const names = accessoryNames(config);
  const env: Record<string, string> = {};
  if (names.mariadb)
    env.MARIADB_URL = mariadbUrl({ ...names.mariadb, appPassword: need(secrets.mariadb, "mariadb").appPassword }, remoteMariadb(config, mariadbHost));
  if (names.mongodb)
    env.MONGO_URL = mongoUrl(
      { ...names.mongodb, appPassword: need(secrets.mongodb, "mongodb").appPassword },
      app.kind === "container" && app.network === "private",
    );
  return env;
}

function need<T>(value: T | undefined, what: string): T {
  if (!value) throw new Error(`renderAppHost: studyhost:accessories.${what} is configured but its passwords were not given`);
  return value;
}

/** The database host's address when MariaDB runs there; undefined when it runs on the app host. */
function remoteMariadb(config: StudyConfig, host: string | undefined): string | undefined {
  if (mariadbPlacement(config) === "app-host") return undefined;
  if (!host) throw new Error("renderAppHost: MariaDB runs on the database host (two-server) but its address (mariadbHost) was not given");
  return host;
}

export interface AccessoriesInput {
  readonly config: StudyConfig;
  readonly secrets: AccessorySecrets;
  readonly memoryGb: number;
  /** The primary app's unit, stopped during a restore. */
  readonly appUnit: string;
  /** The host renders the shared backup timer (studyhost-backup): the accessories' backups join it. */
  readonly sharedBackupTimer: boolean;
  /** The database host's private address, where MariaDB runs there (two-server). */
  readonly mariadbHost?: string;
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
 * database host; any host with `database.engine: none`) gets a timer of its own for the accessories,
 * the shared pruning script, and the offsite settings their scripts read.
 */
function ownBackupTimer(config: StudyConfig, commands: readonly string[]): HostPart[] {
  const service = fillAsset(__dirname, `${OWN_BACKUP_UNIT}.service`, { DATA: PATHS.data, ALERT_ON_FAILURE, EXEC_START: backupExecStart(commands) });
  const offsite =
    config.backups.offsite && config.offsiteSecretAccessKey ? { ...config.backups.offsite, secretAccessKey: config.offsiteSecretAccessKey } : undefined;
  return [
    ...(offsite ? [offsitePart(offsite)] : []),
    {
      files: [
        ...BACKUP_TOOLS,
        script(BACKUP_EACH, BACKUP_EACH_SH),
        configFile(`${PATHS.units}/${OWN_BACKUP_UNIT}.service`, service),
        configFile(`${PATHS.units}/${OWN_BACKUP_UNIT}.timer`, backupTimer(config.backups.schedule)),
      ],
      steps: [
        {
          name: "accessories-backups",
          script: `${requireDataVolume("the backups")}\ninstall -d -m 0700 ${PATHS.backups}\nsystemctl daemon-reload\nsystemctl enable --now ${OWN_BACKUP_UNIT}.timer`,
        },
      ],
    },
  ];
}

const keepOf = (config: StudyConfig) => ({ daily: config.backups.keepDaily, weekly: config.backups.keepWeekly, monthly: config.backups.keepMonthly });

export function accessoriesParts(input: AccessoriesInput): AccessoriesParts {
  const { config } = input;
  const names = accessoryNames(config);
  const keep = keepOf(config);
  const parts: HostPart[] = [];
  const commands: string[] = [];
  if (usesDockerNetwork(config)) parts.push(dockerNetworkPart());
  if (names.mariadb) {
    const s = need(input.secrets.mariadb, "mariadb");
    const host = remoteMariadb(config, input.mariadbHost);
    if (host) {
      parts.push(mariadbClientPart({ ...names.mariadb, appPassword: s.appPassword }, host));
    } else {
      parts.push(mariadbPart({ users: { ...names.mariadb, appPassword: s.appPassword, analystPassword: s.analystPassword }, keep, appUnit: input.appUnit }));
      commands.push(MARIADB.backup);
    }
  }
  if (names.mongodb) {
    const s = need(input.secrets.mongodb, "mongodb");
    parts.push(
      mongodbPart({
        image: names.mongodb.image,
        users: { database: names.mongodb.database, appUser: names.mongodb.appUser, appPassword: s.appPassword, rootPassword: s.rootPassword },
        memoryGb: input.memoryGb,
        keep,
        appUnit: input.appUnit,
      }),
    );
    commands.push(MONGODB.backup);
  }
  if (commands.length && !input.sharedBackupTimer) parts.push(...ownBackupTimer(config, commands));
  return { parts, backupCommands: input.sharedBackupTimer ? commands : [] };
}

export interface DatabaseHostAccessoriesInput {
  readonly config: StudyConfig;
  readonly secrets: AccessorySecrets;
  /** The private network the app host connects from. */
  readonly clientCidr: string;
  /** The host runs PostgreSQL's backup timer (studyhost-backup): MariaDB's backup joins it. */
  readonly sharedBackupTimer: boolean;
}

/**
 * The accessories a database host runs (two-server): MariaDB, listening on the private network for
 * the app host, its data on this host's volume, its backups here with the study's retention (after
 * PostgreSQL's on the shared timer, or on a timer of its own when no PostgreSQL runs).
 */
export function databaseHostAccessories(input: DatabaseHostAccessoriesInput): AccessoriesParts {
  const { config } = input;
  const names = accessoryNames(config);
  if (!names.mariadb || mariadbPlacement(config) !== "database-host") return { parts: [], backupCommands: [] };
  const s = input.secrets.mariadb;
  if (!s) throw new Error("renderDatabaseHost: studyhost:accessories.mariadb is configured but its passwords were not given");
  const parts: HostPart[] = [
    mariadbPart({
      users: { ...names.mariadb, appPassword: s.appPassword, analystPassword: s.analystPassword },
      keep: keepOf(config),
      clientCidr: input.clientCidr,
    }),
  ];
  if (!input.sharedBackupTimer) parts.push(...ownBackupTimer(config, [MARIADB.backup]));
  return { parts, backupCommands: input.sharedBackupTimer ? [MARIADB.backup] : [] };
}

/**
 * What the manifest lists: each accessory, where its data and backups are, how it is reached.
 * @param mariadbHost the database host's private address, where MariaDB runs there (two-server)
 */
export function accessoriesManifest(config: StudyConfig, mariadbHost?: string): object {
  const names = accessoryNames(config);
  const remote = names.mariadb ? remoteMariadb(config, mariadbHost) : undefined;
  return {
    ...(names.mariadb
      ? {
          mariadb: remote
            ? {
                database: names.mariadb.database,
                appUser: names.mariadb.appUser,
                host: `${remote}:${MARIADB.port}`,
                tls: true,
                where: "database host",
                env: "MARIADB_URL",
              }
            : {
                database: names.mariadb.database,
                appUser: names.mariadb.appUser,
                analystUser: names.mariadb.analystUser,
                listen: `127.0.0.1:${MARIADB.port}`,
                data: MARIADB.datadir,
                backups: MARIADB.backups,
                env: "MARIADB_URL",
              },
        }
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
