import * as pulumi from "@pulumi/pulumi";
import { loadCloud, ServerHandle } from "../src/clouds";
import { extraApps, type StudyConfig } from "../src/config";
import { DatabaseLink, PostgresRoles, renderCloudConfig, renderDatabaseHost } from "../src/host";
import { CostItem, hostCost } from "../src/tiers/cost";
import type { Firewall } from "./firewall";
import type { Network } from "./network";
import { generatedSecret } from "./secrets";

export interface DatabaseHostArgs {
  /**
   * The study's validated configuration. Its tier decides the placement: small and large run
   * PostgreSQL on the app host's data volume (no extra cost), two-server on a VM of its own with its
   * own data volume (`config.hosts.database`: $23/month on DigitalOcean). Changing the tier between
   * those would create a new, empty database host: move the data first. Changing `database.name`
   * changes the roles and database the host sets up, not any cloud resource.
   * @example parseStudyConfig({ cloud: "aws", tier: "two-server", ... })
   */
  readonly config: StudyConfig;
  /**
   * The private network the database host joins (own-host placement only; same-host ignores it).
   * Changing it replaces the database VM, which is protected: that update stops instead. Costs nothing.
   * @example new Network("study-network", { cloud: "aws", region: "eu-west-1" })
   */
  readonly network: Network;
  /**
   * The database host's cloud firewall (own-host placement only; required there): 5432 from the app
   * host's firewall members, 22 from the admin networks, nothing else. Changing its rules updates it in
   * place; joining another firewall updates the VM in place (its DigitalOcean tag or AWS security
   * group). Costs nothing.
   * @default undefined (same-host placement needs none)
   * @example new Firewall("study-db-firewall", { cloud, network, inbound: databaseRules(adminCidrs, appFirewall) })
   */
  readonly firewall?: Firewall;
}

/** The type token the component was released under, as PostgresHost: an alias to it keeps stacks' state. */
const FORMER_TYPE = "studyhost:database:PostgresHost";

/**
 * The study's database server. PostgreSQL for the study: either on the app host's data volume (small, large) or on its own VM with
 * its own protected data volume inside the private network (two-server). Generates the app role's and
 * the read-only analyst role's passwords. Cost: nothing extra on the app host; on its own host the
 * tier's database size, its volume and its address (see `costItems`).
 * On two-server the VM is the study's database host: it also runs MariaDB when
 * studyhost:accessories.mariadb is set (generating its passwords, see `mariadb`), and then runs no
 * PostgreSQL at all with `database.engine: none` (the component keeps its name and type, so a stack's
 * database host keeps its identity whichever databases it holds).
 */
export class DatabaseHost extends pulumi.ComponentResource {
  readonly placement: "same-host" | "own-host";
  readonly databaseName: string;
  /** The role that owns the study's database and nothing else. */
  readonly appUser: string;
  /** The read-only role for analysts (seed 001). */
  readonly analystUser: string;
  readonly appPassword: pulumi.Output<string>;
  readonly analystPassword: pulumi.Output<string>;
  /**
   * The other apps' databases on this server (a staging copy's, sites' with `database: true`), by
   * database name: each its own owner role (named like the database) and `<name>_analyst` role, with
   * passwords generated as `<this>-<database>-app-password` / `-analyst-password`. Empty without them.
   */
  readonly extraDatabases: Readonly<Record<string, { readonly appPassword: pulumi.Output<string>; readonly analystPassword: pulumi.Output<string> }>>;
  /** Where the app connects: "localhost", or the database host's private address. */
  readonly host: pulumi.Output<string>;
  /** The database VM, for own-host placement. */
  readonly server?: ServerHandle;
  /**
   * MariaDB's generated passwords, when it runs on this database host (own-host placement with
   * accessories.mariadb): RandomPasswords `<this>-mariadb-app-password` and `-analyst-password`.
   * Undefined otherwise (MariaDB then runs on the app host, which makes its own).
   */
  readonly mariadb?: { readonly appPassword: pulumi.Output<string>; readonly analystPassword: pulumi.Output<string> };
  readonly costItems: readonly CostItem[];

  constructor(name: string, args: DatabaseHostArgs, opts?: pulumi.ComponentResourceOptions) {
    // Named PostgresHost until it could run MariaDB alone: the alias makes `pulumi up` find a stack's
    // database host (and, through it, its children: the protected VM and volume) under the old type
    // instead of replacing it.
    super("studyhost:database:DatabaseHost", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: FORMER_TYPE }] });
    const { config } = args;
    this.placement = config.tierSpec.databasePlacement;
    this.databaseName = config.database.name;
    this.appUser = config.database.name;
    this.analystUser = `${config.database.name}_analyst`;
    this.appPassword = generatedSecret(this, `${name}-app-password`);
    this.analystPassword = generatedSecret(this, `${name}-analyst-password`);
    // Created only for a staging copy or sites with databases: a study without them keeps exactly its children.
    this.extraDatabases = Object.fromEntries(
      extraApps(config)
        .flatMap((a) => (a.database ? [a.database] : []))
        .map((db) => [
          db,
          { appPassword: generatedSecret(this, `${name}-${db}-app-password`), analystPassword: generatedSecret(this, `${name}-${db}-analyst-password`) },
        ]),
    );

    if (this.placement === "same-host") {
      this.host = pulumi.output("localhost");
      this.costItems = [];
    } else {
      const plan = config.hosts.database;
      if (!plan || !args.firewall) throw new Error(`DatabaseHost ${name}: own-host placement needs the tier's database host and a firewall`);
      const postgres = config.database.engine === "postgres";
      const roles = postgres ? this.roles() : pulumi.output(undefined);
      const extraRoles = this.extraRoles();
      const mariadb = config.accessories.mariadb
        ? { appPassword: generatedSecret(this, `${name}-mariadb-app-password`), analystPassword: generatedSecret(this, `${name}-mariadb-analyst-password`) }
        : undefined;
      this.mariadb = mariadb;
      const accessories = pulumi
        .all([mariadb?.appPassword ?? "", mariadb?.analystPassword ?? ""])
        .apply(([appPassword, analystPassword]) => (mariadb ? { mariadb: { appPassword, analystPassword } } : {}));
      this.server = loadCloud(config.cloud).createServer(this, name, {
        region: config.region,
        size: plan.size,
        volumeGb: plan.volumeGb,
        network: args.network.handle,
        firewall: args.firewall.handle,
        machineHoldsData: true,
        staticIp: false,
        userData: (device) =>
          pulumi.all([device, roles, args.network.cidr, extraRoles, accessories]).apply(([dataDevice, r, clientCidr, extra, acc]) =>
            renderCloudConfig(
              renderDatabaseHost({
                config,
                hostname: name,
                dataDevice,
                ...(r ? { roles: r } : {}),
                clientCidr,
                ...(extra.length ? { extraRoles: extra } : {}),
                ...(mariadb ? { accessories: acc } : {}),
              }),
            ),
          ),
      });
      this.host = this.server.privateIpv4;
      this.costItems = hostCost(config.cloud, name, plan.size, plan.volumeGb);
    }
    this.registerOutputs({ host: this.host, databaseName: this.databaseName, appUser: this.appUser });
  }

  /** The roles and their passwords, for the host that runs PostgreSQL. */
  roles(): pulumi.Output<PostgresRoles> {
    return pulumi.all([this.appPassword, this.analystPassword]).apply(([appPassword, analystPassword]) => ({
      database: this.databaseName,
      appUser: this.appUser,
      appPassword,
      analystUser: this.analystUser,
      analystPassword,
    }));
  }

  /** How the app connects: over the local socket's TCP twin, or over the private network with TLS. */
  link(): pulumi.Output<DatabaseLink> {
    return this.linkAs(this.databaseName, this.appUser, this.appPassword);
  }

  /** The other apps' databases' roles and passwords (see `extraDatabases`), for the host that runs PostgreSQL. */
  extraRoles(): pulumi.Output<PostgresRoles[]> {
    const entries = Object.entries(this.extraDatabases);
    return pulumi.all(entries.map(([, p]) => pulumi.all([p.appPassword, p.analystPassword]))).apply((passwords) =>
      entries.map(([database], i) => ({
        database,
        appUser: database,
        appPassword: passwords[i][0],
        analystUser: `${database}_analyst`,
        analystPassword: passwords[i][1],
      })),
    );
  }

  /**
   * How another app connects to its own database on this server.
   * @param database one of `extraDatabases`' names, e.g. "study_staging"
   */
  linkFor(database: string): pulumi.Output<DatabaseLink> {
    const passwords = this.extraDatabases[database];
    if (!passwords) throw new Error(`DatabaseHost: no database ${database} for another app on this server`);
    return this.linkAs(database, database, passwords.appPassword);
  }

  private linkAs(name: string, user: string, appPassword: pulumi.Output<string>): pulumi.Output<DatabaseLink> {
    return pulumi.all([this.host, appPassword]).apply(([host, password]) => ({
      engine: "postgres" as const,
      host,
      port: 5432,
      name,
      user,
      password,
      tls: this.placement === "own-host",
    }));
  }
}

/**
 * The database host under its first name.
 * @deprecated Use DatabaseHost: the same class (it may run MariaDB only, so it was renamed), whose
 * alias keeps the state of stacks created under this name.
 */
export const PostgresHost = DatabaseHost;
/** @deprecated Use DatabaseHost. */
export type PostgresHost = DatabaseHost;
/** @deprecated Use DatabaseHostArgs. */
export type PostgresHostArgs = DatabaseHostArgs;
