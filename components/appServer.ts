import * as pulumi from "@pulumi/pulumi";
import { loadCloud, ServerHandle } from "../src/clouds";
import { extraApps, PowerScheduleConfig, powerUsage, toEventBridgeCron, type StudyConfig } from "../src/config";
import { AccessorySecrets, AppSecrets, appSqlitePath, DatabaseLink, renderAppHost, renderCloudConfig, sqlitePath } from "../src/host";
import { CostItem, hostCost, scheduledHostCost } from "../src/tiers/cost";
import type { Firewall } from "./firewall";
import type { Network } from "./network";
import type { DatabaseHost } from "./databaseHost";
import { generatedSecret } from "./secrets";
import type { Tls } from "./tls";

export interface AppServerArgs {
  /**
   * The study's validated configuration: app, admin user and keys, the tier's machine size
   * (`config.hosts.app.size`, cost per month in `costItems`) and data volume (`config.hosts.app.volumeGb`).
   * Changing the app, its version, the keys or the admin networks replaces nothing: the VM ignores
   * user-data changes (so those changes do not reach a running host until it is re-provisioned).
   * Changing the size resizes the VM in place (DigitalOcean) or stops and starts it (AWS). Changing the
   * region replaces the VM and the volume; the volume is protected, so that update stops instead.
   * @example parseStudyConfig({ cloud: "digitalocean", tier: "small", domain: "study.example.org", ... })
   */
  readonly config: StudyConfig;
  /**
   * The private network the server joins. Changing it replaces the VM (not the volume). Costs nothing.
   * @example new Network("study-network", { cloud: "digitalocean", region: "fra1" })
   */
  readonly network: Network;
  /**
   * The cloud firewall the server joins. Changing its rules updates it in place; joining another
   * firewall updates the VM in place (its DigitalOcean tag or AWS security group). Costs nothing.
   * @example new Firewall("study-app-firewall", { cloud, network, inbound: webRules(["203.0.113.0/24"]) })
   */
  readonly firewall: Firewall;
  /**
   * Certificate settings for the host's certbot (Let's Encrypt by default; free). Changing them
   * replaces nothing.
   * @example new Tls("study-tls", { domains: ["study.example.org"], email: "research-it@example.org" })
   */
  readonly tls: Tls;
  /**
   * The study's PostgreSQL, on this host ("same-host": no extra cost) or on its own (see its
   * `costItems`); on two-server also where MariaDB runs (accessories.mariadb). Omit with
   * `database.engine: sqlite` (small tier: the SQLite file then lives on this host's data volume) or
   * `none` on small and large (the app's data is in accessory databases on this host).
   * Changing it (SQLite to PostgreSQL, or another DatabaseHost) replaces nothing of this server: the
   * new database URL is only in its user data, which a running host ignores until it is re-provisioned,
   * and no data moves from one database to the other.
   * @default undefined (SQLite)
   * @example new DatabaseHost("study-db", { config, network })
   */
  readonly database?: DatabaseHost;
  /**
   * Start and stop the server on a schedule (office hours), AWS only: two EventBridge Scheduler
   * schedules (`<name>-power-on`, `<name>-power-off`) calling EC2 StartInstances / StopInstances, and an
   * IAM role (`<name>-power-role`, policy `<name>-power-policy`) allowed only those two calls on this
   * instance. Adding, changing or removing it never replaces or updates the instance, its volume or its
   * address. Cost: the instance's compute only for the hours it runs (`costItems`); the boot disk, data
   * volume and elastic IP bill all month; the schedules fall in EventBridge Scheduler's free tier.
   * A stopped host serves nothing, and its timers (backups, jobs) run late, at the next start.
   * @default config.powerSchedule (none: the server runs all the time)
   * @example { on: "0 8 * * mon-fri", off: "0 22 * * mon-fri", timezone: "Europe/London" }
   */
  readonly powerSchedule?: PowerScheduleConfig;
}

/**
 * The study's app server: a VM (DigitalOcean droplet, or EC2 instance on a pinned Ubuntu 24.04 LTS
 * image), a reserved / elastic IP that DNS points at, and a separate, protected data volume for
 * everything that must outlive the VM (database, uploads, backups). Its #cloud-config is rendered by
 * src/host. Generates the app's SECRET_KEY and admin password.
 * Cost: the tier's size, the volume, and on AWS the boot disk and the public IPv4 address (`costItems`).
 */
export class AppServer extends pulumi.ComponentResource {
  readonly server: ServerHandle;
  /** The reserved / elastic address DNS points at. */
  readonly publicIpv4: pulumi.Output<string>;
  readonly privateIpv4: pulumi.Output<string>;
  /** Undefined where the cloud gives no IPv6 (AWS, as configured). */
  readonly ipv6?: pulumi.Output<string>;
  readonly secretKey: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;
  /**
   * The other apps' generated secrets (a staging copy, sites), by app name: RandomPasswords named
   * `<this>-<app>-secret-key` and `<this>-<app>-admin-password`, created only for those apps.
   */
  readonly extraSecrets: Readonly<Record<string, { readonly secretKey: pulumi.Output<string>; readonly adminPassword: pulumi.Output<string> }>>;
  /**
   * The accessory databases' generated passwords (studyhost:accessories), created only for those
   * configured: `<this>-mariadb-app-password`, `<this>-mariadb-analyst-password`,
   * `<this>-mongodb-root-password`, `<this>-mongodb-app-password`. On two-server MariaDB runs on the
   * database host: its passwords here are the database host's (DatabaseHost `mariadb`), not children of this.
   */
  readonly accessorySecrets: {
    readonly mariadb?: { readonly appPassword: pulumi.Output<string>; readonly analystPassword: pulumi.Output<string> };
    readonly mongodb?: { readonly rootPassword: pulumi.Output<string>; readonly appPassword: pulumi.Output<string> };
  };
  /** The rendered #cloud-config (a secret, since it holds the env file's generated secrets). */
  readonly userData: pulumi.Output<string>;
  readonly costItems: readonly CostItem[];

  constructor(name: string, args: AppServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("studyhost:compute:AppServer", name, {}, opts);
    const { config, database } = args;
    if (config.database.engine === "postgres" && !database) {
      throw new Error(`AppServer ${name}: studyhost:database.engine is postgres but no DatabaseHost was given`);
    }
    // Two-server with accessories.mariadb: MariaDB runs on the database host, which made its passwords.
    const remoteMariadb = database?.placement === "own-host" && database.mariadb ? database.mariadb : undefined;
    this.secretKey = generatedSecret(this, `${name}-secret-key`);
    this.adminPassword = generatedSecret(this, `${name}-admin-password`);

    const link: pulumi.Output<DatabaseLink | undefined> =
      config.database.engine === "none"
        ? pulumi.output(undefined)
        : config.database.engine === "sqlite" || !database
          ? pulumi.output({ engine: "sqlite" as const, path: sqlitePath(config) })
          : database.link();
    const localRoles = database?.placement === "same-host" ? database.roles() : pulumi.output(undefined);

    // The other apps on this host: their own secrets, and their own database (never the study's).
    const extras = extraApps(config);
    this.extraSecrets = Object.fromEntries(
      extras.map((a) => [
        a.app.name,
        { secretKey: generatedSecret(this, `${name}-${a.app.name}-secret-key`), adminPassword: generatedSecret(this, `${name}-${a.app.name}-admin-password`) },
      ]),
    );
    const extraInputs = pulumi.all(
      Object.fromEntries(
        extras.map((a) => {
          const link: pulumi.Output<DatabaseLink | undefined> = !a.database
            ? pulumi.output(undefined)
            : config.database.engine === "sqlite" || !database
              ? pulumi.output({ engine: "sqlite" as const, path: appSqlitePath(a.app.name, a.database) })
              : database.linkFor(a.database);
          const s = this.extraSecrets[a.app.name];
          return [
            a.app.name,
            pulumi
              .all([s.secretKey, s.adminPassword, link])
              .apply(([secretKey, adminPassword, db]) => ({ secrets: { secretKey, adminPassword } as AppSecrets, database: db })),
          ];
        }),
      ),
    );
    const localExtraRoles = database?.placement === "same-host" ? database.extraRoles() : pulumi.output([]);

    // The accessory databases that run on this host: their passwords are made here, only when
    // configured, so a stack without them keeps exactly its children. MariaDB on the database host
    // (two-server) has its passwords from there.
    const { mariadb, mongodb } = config.accessories;
    this.accessorySecrets = {
      ...(remoteMariadb
        ? { mariadb: remoteMariadb }
        : mariadb
          ? {
              mariadb: {
                appPassword: generatedSecret(this, `${name}-mariadb-app-password`),
                analystPassword: generatedSecret(this, `${name}-mariadb-analyst-password`),
              },
            }
          : {}),
      ...(mongodb
        ? {
            mongodb: {
              rootPassword: generatedSecret(this, `${name}-mongodb-root-password`),
              appPassword: generatedSecret(this, `${name}-mongodb-app-password`),
            },
          }
        : {}),
    };
    const acc = this.accessorySecrets;
    // With the database host's address when MariaDB runs there.
    const accessories: pulumi.Output<{ secrets: AccessorySecrets; mariadbHost: string }> = pulumi
      .all([
        acc.mariadb?.appPassword ?? "",
        acc.mariadb?.analystPassword ?? "",
        acc.mongodb?.rootPassword ?? "",
        acc.mongodb?.appPassword ?? "",
        remoteMariadb ? database!.host : "",
      ])
      .apply(([mariadbApp, mariadbAnalyst, mongoRoot, mongoApp, mariadbHost]) => ({
        secrets: {
          ...(acc.mariadb ? { mariadb: { appPassword: mariadbApp, analystPassword: mariadbAnalyst } } : {}),
          ...(acc.mongodb ? { mongodb: { rootPassword: mongoRoot, appPassword: mongoApp } } : {}),
        },
        mariadbHost,
      }));

    const plan = config.hosts.app;
    this.server = loadCloud(config.cloud).createServer(this, name, {
      region: config.region,
      size: plan.size,
      volumeGb: plan.volumeGb,
      network: args.network.handle,
      firewall: args.firewall.handle,
      machineHoldsData: false,
      staticIp: true,
      userData: (device) =>
        pulumi
          .all([device, this.secretKey, this.adminPassword, link, localRoles, extraInputs, localExtraRoles, accessories])
          .apply(([dataDevice, secretKey, adminPassword, db, roles, others, extraRoles, { secrets: accessorySecrets, mariadbHost }]) =>
            renderCloudConfig(
              renderAppHost({
                config,
                hostname: name,
                dataDevice,
                secrets: { secretKey, adminPassword },
                ...(db ? { database: db } : {}),
                localPostgres: roles,
                tls: args.tls.settings,
                ...(extras.length ? { extraApps: others, localPostgresExtra: extraRoles } : {}),
                ...(mariadb || mongodb ? { accessories: accessorySecrets } : {}),
                ...(remoteMariadb ? { mariadbHost } : {}),
              }),
            ),
          ),
    });
    this.userData = this.server.userData;
    this.publicIpv4 = this.server.publicIpv4;
    this.privateIpv4 = this.server.privateIpv4;
    this.ipv6 = this.server.ipv6;
    const power = args.powerSchedule ?? config.powerSchedule;
    const costItems = hostCost(config.cloud, name, plan.size, plan.volumeGb);
    if (power) {
      const cloud = loadCloud(config.cloud);
      if (!cloud.createPowerSchedule || !this.server.arn) {
        throw new Error(`AppServer ${name}: a power schedule needs a cloud that stops billing a stopped machine (aws); ${config.cloud} has none`);
      }
      cloud.createPowerSchedule(this, name, {
        region: config.region,
        instanceId: this.server.id,
        instanceArn: this.server.arn,
        on: power.on,
        off: power.off,
        onExpression: toEventBridgeCron(power.on),
        offExpression: toEventBridgeCron(power.off),
        timezone: power.timezone,
      });
      const usage = powerUsage(power);
      this.costItems = scheduledHostCost(costItems, name, plan.size, usage.runningShare, usage.invocationsPerMonth);
    } else {
      this.costItems = costItems;
    }
    this.registerOutputs({ publicIpv4: this.publicIpv4, privateIpv4: this.privateIpv4 });
  }
}
