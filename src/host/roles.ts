// What each role of host holds: plain values in, a HostDocument out, no Pulumi, so every line can be
// checked with the real programs. Components resolve their Outputs, then call these.
import type { StudyConfig } from "../config/load";
import type { AppConfig } from "../config/schema";
import { appPart, appPaths } from "./app";
import { backupPart, BackupSource } from "./backup";
import { basePart } from "./base";
import { fetchManifest, fetchPart } from "./fetch";
import { jobsManifest, jobsPart } from "./jobs";
import type { HostDocument } from "./cloudConfig";
import { hostFirewallPart } from "./firewall";
import { nginxPart, Site, TlsSettings } from "./nginx";
import { HostPart, mergeParts, PATHS } from "./part";
import { postgresPart, PostgresRoles } from "./postgres";
import { PROVISION_SCRIPT, provisionFiles } from "./provision";

export const DATA_MOUNT = PATHS.data;
export type { PostgresRoles, TlsSettings };

/** How the app reaches its database. */
export type DatabaseLink =
  | { readonly engine: "sqlite"; readonly path: string }
  | {
      readonly engine: "postgres";
      readonly host: string;
      readonly port: number;
      readonly name: string;
      readonly user: string;
      readonly password: string;
      /** True when the connection crosses the private network and must use TLS. */
      readonly tls: boolean;
    };

export interface AppHostInput {
  readonly config: StudyConfig;
  readonly hostname: string;
  readonly dataDevice: string;
  readonly secrets: { readonly secretKey: string; readonly adminPassword: string };
  readonly database: DatabaseLink;
  /** PostgreSQL running on this same host, with its roles' passwords. */
  readonly localPostgres?: PostgresRoles;
  readonly tls: TlsSettings;
}

export interface DatabaseHostInput {
  readonly config: StudyConfig;
  readonly hostname: string;
  readonly dataDevice: string;
  readonly roles: PostgresRoles;
  /** The private network the app host connects from. */
  readonly clientCidr: string;
}

export function databaseUrl(link: DatabaseLink): string {
  if (link.engine === "sqlite") return `sqlite:///${link.path}`;
  const auth = `${encodeURIComponent(link.user)}:${encodeURIComponent(link.password)}`;
  return `postgresql://${auth}@${link.host}:${link.port}/${link.name}${link.tls ? "?sslmode=require" : ""}`;
}

/** The app's version as the operator reads it: git ref, pip requirement or image reference. */
export function appVersion(app: AppConfig): string {
  if (app.kind === "container") return app.image;
  return "git" in app.source ? `${app.source.git}@${app.source.ref}` : app.source.pip;
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

function backups(config: StudyConfig, source: BackupSource, appUnit?: string): HostPart {
  const b = config.backups;
  const offsite = b.offsite && config.offsiteSecretAccessKey ? { ...b.offsite, secretAccessKey: config.offsiteSecretAccessKey } : undefined;
  return backupPart({ source, schedule: b.schedule, keepDaily: b.keepDaily, keepWeekly: b.keepWeekly, keepMonthly: b.keepMonthly, offsite, appUnit });
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

function healthCheck(config: StudyConfig): HostPart {
  const { port, healthPath } = config.app;
  const url = `http://127.0.0.1:${port}${healthPath}`;
  const unit = appPaths(config.app.name).unit;
  return {
    steps: [
      {
        name: "health",
        // Waiting makes sense only for an app that was deployed: fail at once otherwise.
        script: `systemctl is-enabled --quiet ${unit} || { echo "${unit} was never deployed (see the app step)"; exit 1; }
for _ in $(seq 1 60); do curl -fsS -o /dev/null ${url} && break; sleep 2; done
curl -fsS -o /dev/null ${url}
echo "app answers at ${url}"
if [ -f ${PATHS.letsencrypt}/live/${config.domain}/fullchain.pem ]; then
  # nginx applies a reload asynchronously: give the https site a moment to come up.
  for _ in $(seq 1 15); do curl -fsS -o /dev/null --insecure --resolve ${config.domain}:443:127.0.0.1 https://${config.domain}${healthPath} && break; sleep 2; done
  curl -fsS -o /dev/null --insecure --resolve ${config.domain}:443:127.0.0.1 https://${config.domain}${healthPath}
  echo "and through nginx at https://${config.domain}${healthPath}"
fi`,
      },
    ],
  };
}

export function renderAppHost(input: AppHostInput): HostDocument {
  const { config } = input;
  const app = config.app;
  const size = config.hosts.app.size;
  const paths = appPaths(app.name);
  const env: Record<string, string> = {
    ...app.env,
    PORT: String(app.port),
    SECRET_KEY: input.secrets.secretKey,
    ADMIN_PASSWORD: input.secrets.adminPassword,
    DATABASE_URL: databaseUrl(input.database),
  };
  const site: Site = {
    name: app.name,
    serverNames: input.tls.domains,
    port: app.port,
    // Relative to where the app runs from: its git checkout, or its state folder for a pip install.
    static: app.kind === "python" && app.static ? { urlPath: app.static.urlPath, dir: `${"git" in app.source ? `${paths.code}/src` : paths.state}/${app.static.dir}` } : undefined,
    adminPaths: app.adminPaths,
    adminCidrs: config.adminCidrs,
    maxBodyMb: app.maxBodyMb,
  };
  const parts: HostPart[] = [
    basePart({ memoryGb: size.memoryGb, adminUser: config.adminUser }),
    hostFirewallPart({ web: true, adminCidrs: config.adminCidrs, postgresClients: [] }),
  ];
  // PostgreSQL on this host gets half its memory; the app the rest.
  // Order: what protects the host and its data first, the app (which may fail on a bad ref) after.
  if (input.localPostgres) parts.push(postgresPart({ roles: input.localPostgres, memoryMb: Math.round((size.memoryGb * 1024) / 2) }));
  if (input.database.engine === "sqlite") {
    parts.push(backups(config, { engine: "sqlite", name: config.database.name, path: input.database.path, owner: app.name }, paths.unit));
  } else if (input.localPostgres) {
    parts.push(backups(config, { engine: "postgres", database: input.localPostgres.database, appRole: input.localPostgres.appUser }, paths.unit));
  } else {
    parts.push(waitForDatabase(input.database));
  }
  parts.push(appPart({ app, env, vcpus: size.vcpus, sharesHostWithPostgres: Boolean(input.localPostgres) }));
  parts.push(fetchPart(config), jobsPart(config));
  parts.push(nginxPart([site], input.tls));
  parts.push(healthCheck(config));
  const manifest = {
    studyhost: 1,
    role: "app",
    tier: config.tier,
    cloud: config.cloud,
    domain: config.domain,
    app: { name: app.name, kind: app.kind, version: appVersion(app), port: app.port, healthPath: app.healthPath, unit: paths.unit },
    database: input.database.engine === "sqlite" ? { engine: "sqlite", path: input.database.path } : { engine: "postgres", host: input.database.host, name: input.database.name },
    tls: { domains: input.tls.domains, acmeDirectory: input.tls.acmeDirectory },
    jobs: jobsManifest(config),
    fetch: fetchManifest(config),
    paths: { data: DATA_MOUNT, config: paths.etc, code: paths.code, state: paths.state, logs: paths.logs, backups: PATHS.backups },
  };
  return document(config, input.hostname, input.dataDevice, parts, manifest, config.domain);
}

export function renderDatabaseHost(input: DatabaseHostInput): HostDocument {
  const { config, roles } = input;
  const size = config.hosts.database!.size;
  const parts: HostPart[] = [
    basePart({ memoryGb: size.memoryGb, adminUser: config.adminUser }),
    hostFirewallPart({ web: false, adminCidrs: config.adminCidrs, postgresClients: [input.clientCidr] }),
    postgresPart({ roles, memoryMb: size.memoryGb * 1024, clientCidr: input.clientCidr }),
    backups(config, { engine: "postgres", database: roles.database, appRole: roles.appUser }),
  ];
  const manifest = {
    studyhost: 1,
    role: "database",
    tier: config.tier,
    cloud: config.cloud,
    domain: config.domain,
    database: { engine: "postgres", name: roles.database, appUser: roles.appUser, analystUser: roles.analystUser, clientCidr: input.clientCidr },
    paths: { data: DATA_MOUNT, backups: PATHS.backups },
  };
  return document(config, input.hostname, input.dataDevice, parts, manifest);
}
