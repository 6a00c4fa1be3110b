// What each role of host holds: plain values in, a HostDocument out, no Pulumi, so every line can be
// checked with the real programs. Components resolve their Outputs, then call these.
import { studyApps } from "../config/apps";
import type { StudyConfig } from "../config/load";
import { appPaths } from "./apps/paths";
import { AppInstance, AppSecrets, appSite, appsParts, appVersion, DatabaseLink, manifestApps } from "./apps/studyApps";
import {
  accessoriesManifest,
  accessoriesParts,
  accessoryEnv,
  accessoryNames,
  AccessorySecrets,
  accessoryUnits,
  databaseHostAccessories,
  hasAccessories,
  mariadbPlacement,
  usesDockerNetwork,
} from "./databases/accessories";
import { MARIADB, MARIADB_WAIT_STEP } from "./databases/mariadb";
import { analyticsManifest, analyticsPart } from "./analytics/analytics";
import { backupPart, BackupSource } from "./backups/backup";
import { DOCKER_NETWORK } from "./apps/dockerNetwork";
import { basePart } from "./system/base";
import { fetchManifest, fetchPart } from "./apps/bucketSync";
import { jobsManifest, jobsPart } from "./apps/jobs";
import { JOURNAL_LOGS, LOGS_ON_VOLUME, logVolumePart, NGINX_LOGS } from "./system/logVolume";
import type { HostDocument } from "./document/cloudConfig";
import { hostFirewallPart } from "./system/firewall";
import { nginxPart, TlsSettings } from "./web/nginx";
import { HostPart, mergeParts, PATHS } from "./document/part";
import { postgresPart, PostgresRoles } from "./databases/postgres";
import { PROVISION_SCRIPT, provisionFiles } from "./document/provision";

export const DATA_MOUNT = PATHS.data;
export type { PostgresRoles, TlsSettings, DatabaseLink };

export interface AppHostInput {
  readonly config: StudyConfig;
  readonly hostname: string;
  readonly dataDevice: string;
  readonly secrets: { readonly secretKey: string; readonly adminPassword: string };
  /** The study's database; undefined exactly with `database.engine: none` (accessory databases only). */
  readonly database?: DatabaseLink;
  /** PostgreSQL running on this same host, with its roles' passwords. */
  readonly localPostgres?: PostgresRoles;
  readonly tls: TlsSettings;
  /**
   * The host's other apps (`studyhost:staging`, `studyhost:sites`) by app name: each one's generated
   * secrets and, for an app with a database, how it reaches it. Every extra app of the config needs one.
   * @default {} (a study without staging or sites)
   */
  readonly extraApps?: Readonly<Record<string, { readonly secrets: AppSecrets; readonly database?: DatabaseLink }>>;
  /** The extra apps' databases on this host's PostgreSQL (with `localPostgres`). @default [] */
  readonly localPostgresExtra?: readonly PostgresRoles[];
  /** The passwords of the accessory databases (studyhost:accessories) the primary app uses. @default {} */
  readonly accessories?: AccessorySecrets;
  /** The database host's private address, where MariaDB runs there (two-server with accessories.mariadb). */
  readonly mariadbHost?: string;
}

export interface DatabaseHostInput {
  readonly config: StudyConfig;
  readonly hostname: string;
  readonly dataDevice: string;
  /** PostgreSQL's roles; undefined with `database.engine: none` (no PostgreSQL runs, only MariaDB). */
  readonly roles?: PostgresRoles;
  /** The extra apps' databases (staging, sites with `database: true`) on this server. @default [] */
  readonly extraRoles?: readonly PostgresRoles[];
  /** The private network the app host connects from. */
  readonly clientCidr: string;
  /** MariaDB's passwords, when it runs here (studyhost:accessories.mariadb on two-server). @default {} */
  readonly accessories?: AccessorySecrets;
}

/** The SQLite file of a small study: on the data volume, in the app's state folder. */
export function sqlitePath(config: StudyConfig): string {
  return `${appPaths(config.app.name).state}/${config.database.name}.sqlite3`;
}

function document(config: StudyConfig, hostname: string, dataDevice: string, parts: HostPart[], manifest: object, fqdn?: string): HostDocument {
  const merged = mergeParts(parts);
  return {
    hostname,
    fqdn,
    adminUser: config.adminUser,
    sshKeys: config.sshKeys,
    packages: merged.packages,
    files: [...merged.files, ...provisionFiles(merged.steps, manifest)],
    dataVolume: { device: dataDevice, mountPoint: DATA_MOUNT },
    commands: [[PROVISION_SCRIPT]],
  };
}

type ExtraBackups = NonNullable<Parameters<typeof backupPart>[0]["extra"]>;

function backups(config: StudyConfig, source: BackupSource, appUnit?: string, extra: ExtraBackups = [], extraCommands: readonly string[] = []): HostPart {
  const b = config.backups;
  const offsite = b.offsite && config.offsiteSecretAccessKey ? { ...b.offsite, secretAccessKey: config.offsiteSecretAccessKey } : undefined;
  return backupPart({
    source,
    schedule: b.schedule,
    keepDaily: b.keepDaily,
    keepWeekly: b.keepWeekly,
    keepMonthly: b.keepMonthly,
    offsite,
    appUnit,
    ...(extra.length ? { extra } : {}),
    ...(extraCommands.length ? { extraCommands } : {}),
  });
}

/** The extra apps' databases that the nightly backup dumps too (the sites'; not staging's). */
function extraBackups(apps: readonly AppInstance[], where: "app-host" | "database-host"): ExtraBackups {
  return apps.flatMap(({ app, database }): ExtraBackups[number][] => {
    if (!app.backedUp || !database || !app.database) return [];
    const appUnit = where === "app-host" ? appPaths(app.app.name).unit : undefined;
    if (database.engine === "sqlite")
      return where === "app-host" ? [{ source: { engine: "sqlite" as const, name: app.database, path: database.path, owner: app.app.name }, appUnit }] : [];
    return [{ source: { engine: "postgres" as const, database: app.database, appRole: app.database }, appUnit }];
  });
}

/** On the two-server tier the database host may still be provisioning: wait for it (up to 15 minutes). */
function waitForDatabase(link: Extract<DatabaseLink, { engine: "postgres" }>): HostPart {
  return {
    packages: ["postgresql-client"],
    steps: [
      {
        name: "database-wait",
        script: `for _ in $(seq 1 180); do pg_isready --quiet --host=${link.host} --port=${link.port} && break; sleep 5; done
pg_isready --host=${link.host} --port=${link.port}`,
      },
    ],
  };
}

/** Every app of the config with what the input gives it: its secrets and its database. */
function appInstances(input: AppHostInput): AppInstance[] {
  return studyApps(input.config).map((app): AppInstance => {
    if (app.role === "primary") {
      const env = hasAccessories(input.config) ? accessoryEnv(input.config, input.accessories ?? {}, app.app, input.mariadbHost) : {};
      return { app, secrets: input.secrets, database: input.database, ...(Object.keys(env).length ? { env } : {}) };
    }
    const given = input.extraApps?.[app.app.name];
    if (!given) throw new Error(`renderAppHost: no secrets were given for the app ${app.app.name} (studyhost:${app.key})`);
    if (app.database && !given.database) throw new Error(`renderAppHost: the app ${app.app.name} has a database but no link to it was given`);
    return { app, secrets: given.secrets, database: app.database ? given.database : undefined };
  });
}

export function renderAppHost(input: AppHostInput): HostDocument {
  const { config } = input;
  const app = config.app;
  const size = config.hosts.app.size;
  const paths = appPaths(app.name);
  if ((config.database.engine === "none") !== !input.database)
    throw new Error(`renderAppHost: studyhost:database.engine is ${config.database.engine} but ${input.database ? "a" : "no"} database link was given`);
  const instances = appInstances(input);
  const extra = instances.filter((i) => i.app.role !== "primary");
  const parts: HostPart[] = [
    basePart({ memoryGb: size.memoryGb, adminUser: config.adminUser }),
    hostFirewallPart({
      web: true,
      adminCidrs: config.adminCidrs,
      postgresClients: [],
      ...(usesDockerNetwork(config) ? { containerBridge: DOCKER_NETWORK.bridge } : {}),
    }),
  ];
  // The logs on the data volume before anything that writes them is set up (studyhost:logsOnDataVolume).
  if (config.logsOnDataVolume) parts.push(logVolumePart([JOURNAL_LOGS, NGINX_LOGS, ...instances.map((i) => ({ path: appPaths(i.app.app.name).logs }))]));
  // PostgreSQL on this host gets half its memory; the app the rest.
  // Order: what protects the host and its data first, the app (which may fail on a bad ref) after.
  const extraRoles = input.localPostgresExtra ?? [];
  if (input.localPostgres)
    parts.push(postgresPart({ roles: input.localPostgres, memoryMb: Math.round((size.memoryGb * 1024) / 2), ...(extraRoles.length ? { extraRoles } : {}) }));
  // The accessory databases (studyhost:accessories): after PostgreSQL, their backups on the same timer.
  // With engine none and no database host, the accessories' backups get a timer of their own.
  const db = input.database;
  const sharedBackupTimer = db?.engine === "sqlite" || Boolean(input.localPostgres);
  const accessories = accessoriesParts({
    config,
    secrets: input.accessories ?? {},
    memoryGb: size.memoryGb,
    appUnit: paths.unit,
    sharedBackupTimer,
    ...(input.mariadbHost ? { mariadbHost: input.mariadbHost } : {}),
  });
  if (db?.engine === "sqlite") {
    parts.push(
      backups(
        config,
        { engine: "sqlite", name: config.database.name, path: db.path, owner: app.name },
        paths.unit,
        extraBackups(extra, "app-host"),
        accessories.backupCommands,
      ),
    );
  } else if (input.localPostgres) {
    parts.push(
      backups(
        config,
        { engine: "postgres", database: input.localPostgres.database, appRole: input.localPostgres.appUser },
        paths.unit,
        extraBackups(extra, "app-host"),
        accessories.backupCommands,
      ),
    );
  } else if (db) {
    parts.push(waitForDatabase(db));
  }
  parts.push(...accessories.parts);
  // Staging's install and health check, then production's app (only if staging is healthy), the
  // sites; nginx with one site per app; then the health checks that can also go through nginx.
  const apps = appsParts(instances, {
    adminCidrs: config.adminCidrs,
    vcpus: size.vcpus,
    sharesHostWithPostgres: Boolean(input.localPostgres),
    accessoryUnits: accessoryUnits(config),
    ...(input.mariadbHost ? { primaryNeeds: [MARIADB_WAIT_STEP] } : {}),
  });
  parts.push(...apps.install);
  // Jobs and bucket fetches belong to an app: after it is installed.
  parts.push(fetchPart(config), jobsPart(config));
  const primary = instances.find((i) => i.app.role === "primary")!;
  parts.push(
    nginxPart(
      [{ ...appSite(primary.app, config.adminCidrs), serverNames: input.tls.domains }, ...extra.map((i) => appSite(i.app, config.adminCidrs))],
      input.tls,
    ),
  );
  parts.push(...apps.health);
  // Access-log counts (studyhost:analytics) read the sites' nginx logs: after nginx.
  parts.push(analyticsPart(config));
  const manifest = {
    studyhost: 1,
    role: "app",
    tier: config.tier,
    cloud: config.cloud,
    domain: config.domain,
    app: { name: app.name, kind: app.kind, version: appVersion(app), port: app.port, healthPath: app.healthPath, unit: paths.unit },
    database: !db ? { engine: "none" } : db.engine === "sqlite" ? { engine: "sqlite", path: db.path } : { engine: "postgres", host: db.host, name: db.name },
    tls: { domains: input.tls.domains, acmeDirectory: input.tls.acmeDirectory },
    jobs: jobsManifest(config),
    fetch: fetchManifest(config),
    paths: {
      data: DATA_MOUNT,
      config: paths.etc,
      code: paths.code,
      state: paths.state,
      logs: paths.logs,
      backups: PATHS.backups,
      ...(config.logsOnDataVolume ? { logsOnVolume: LOGS_ON_VOLUME } : {}),
    },
    // Only a host with more than one app lists them (a study without staging or sites renders as before).
    ...(extra.length ? { apps: manifestApps(extra) } : {}),
    ...(hasAccessories(config) ? { accessories: accessoriesManifest(config, input.mariadbHost) } : {}),
    ...(config.analytics ? { analytics: analyticsManifest(config) } : {}),
  };
  return document(config, input.hostname, input.dataDevice, parts, manifest, config.domain);
}

/** On a database host, the sites' databases are dumped where they live (staging's are not). */
function databaseHostBackups(config: StudyConfig): ExtraBackups {
  return studyApps(config)
    .filter((a) => a.role === "site" && a.backedUp && a.database)
    .map((a) => ({ source: { engine: "postgres" as const, database: a.database!, appRole: a.database! } }));
}

/**
 * The database host (two-server): PostgreSQL (unless `database.engine` is none) and MariaDB (with
 * accessories.mariadb), each reachable from the private network only, backed up here.
 */
export function renderDatabaseHost(input: DatabaseHostInput): HostDocument {
  const { config, roles } = input;
  const size = config.hosts.database!.size;
  const mariadb = Boolean(config.accessories.mariadb) && mariadbPlacement(config) === "database-host";
  if ((config.database.engine === "postgres") !== Boolean(roles))
    throw new Error(`renderDatabaseHost: studyhost:database.engine is ${config.database.engine} but PostgreSQL's roles were ${roles ? "" : "not "}given`);
  if (!roles && !mariadb) throw new Error("renderDatabaseHost: neither PostgreSQL nor MariaDB runs on this database host");
  const accessories = databaseHostAccessories({ config, secrets: input.accessories ?? {}, clientCidr: input.clientCidr, sharedBackupTimer: Boolean(roles) });
  const parts: HostPart[] = [
    basePart({ memoryGb: size.memoryGb, adminUser: config.adminUser }),
    hostFirewallPart({
      web: false,
      adminCidrs: config.adminCidrs,
      postgresClients: roles ? [input.clientCidr] : [],
      mariadbClients: mariadb ? [input.clientCidr] : [],
    }),
    ...(config.logsOnDataVolume ? [logVolumePart([JOURNAL_LOGS])] : []),
  ];
  // PostgreSQL gets the host's memory, or half of it beside MariaDB (whose own buffer pool is the distribution's default).
  if (roles) {
    parts.push(
      postgresPart({
        roles,
        memoryMb: (size.memoryGb * 1024) / (mariadb ? 2 : 1),
        clientCidr: input.clientCidr,
        ...(input.extraRoles?.length ? { extraRoles: input.extraRoles } : {}),
      }),
      backups(
        config,
        { engine: "postgres", database: roles.database, appRole: roles.appUser },
        undefined,
        databaseHostBackups(config),
        accessories.backupCommands,
      ),
    );
  }
  parts.push(...accessories.parts);
  const manifest = {
    studyhost: 1,
    role: "database",
    tier: config.tier,
    cloud: config.cloud,
    domain: config.domain,
    database: roles
      ? { engine: "postgres", name: roles.database, appUser: roles.appUser, analystUser: roles.analystUser, clientCidr: input.clientCidr }
      : { engine: "none" },
    ...(mariadb
      ? {
          accessories: {
            mariadb: {
              ...accessoryNames(config).mariadb,
              listen: `127.0.0.1 and the private address, port ${MARIADB.port}`,
              clientCidr: input.clientCidr,
              tls: true,
              data: MARIADB.datadir,
              backups: MARIADB.backups,
            },
          },
        }
      : {}),
    paths: { data: DATA_MOUNT, backups: PATHS.backups, ...(config.logsOnDataVolume ? { logsOnVolume: LOGS_ON_VOLUME } : {}) },
  };
  return document(config, input.hostname, input.dataDevice, parts, manifest);
}
