import * as pulumi from "@pulumi/pulumi";
import { AppServer, Dns, Firewall, Network, DatabaseHost, Tls, databaseRules, webRules } from "../components";
import { extraApps, type StudyConfig } from "../src/config";
import { CostSummary, summarize } from "../src/tiers/cost";

/**
 * A whole study server for one tier, composed from the components. The tier table (src/tiers) decides
 * what is built: the database on the app host (small, large) or on a host of its own (two-server).
 * Cost: see `cost`, itemised from the catalog's list prices.
 */
export class Study extends pulumi.ComponentResource {
  readonly url: string;
  /**
   * Every app's URL by app name: the study's app, its staging copy (`<app>_staging`) and each site.
   * Only `url` for a study without staging or sites.
   */
  readonly urls: Readonly<Record<string, string>>;
  readonly app: AppServer;
  readonly database?: DatabaseHost;
  readonly dns: Dns;
  readonly cost: CostSummary;
  /** `ssh admin@address`, for the operator. */
  readonly sshCommand: pulumi.Output<string>;

  /**
   * @param name the stem of every child's name. Child names are identity: renaming a released stack's
   *   Study replaces everything it holds, data hosts included (they are protected, so the update fails).
   * @param config a validated configuration from `parseStudyConfig` or `readStudyConfig`: cloud,
   *   region, tier, domain, app and the rest, each key with its default in src/config/schema.ts.
   *   Cost: the tier's machines and volumes at list prices, itemised in `cost` (on DigitalOcean
   *   small $7, large $29, two-server $43 a month). What changing it does: the app, its version, the
   *   SSH keys and the admin networks replace nothing (machines ignore user data; the cloud firewall is
   *   updated in place); `sizes.*` resizes a machine in place (DigitalOcean) or stops and starts it
   *   (AWS); `volumes.*` grows a volume in place; the tier between one host and two creates a new,
   *   empty database host (or, going back, would delete a protected one: that update stops); the
   *   region or the cloud would replace everything, and the protected volumes and database host make
   *   that update stop instead.
   * @example new Study("study", parseStudyConfig({ cloud: "digitalocean", tier: "small", domain: "study.example.org", ... }))
   */
  constructor(name: string, config: StudyConfig, opts?: pulumi.ComponentResourceOptions) {
    super("studyhost:stacks:Study", name, {}, opts);
    const parent = { parent: this };
    const { cloud, region } = config;

    const network = new Network(`${name}-network`, { cloud, region }, parent);
    const appFirewall = new Firewall(`${name}-app-firewall`, { cloud, network, inbound: webRules(config.adminCidrs) }, parent);

    // The database host (two-server) runs PostgreSQL, MariaDB (accessories.mariadb), or both; on one
    // host, DatabaseHost is PostgreSQL on the app host and MariaDB is the app host's own.
    const ownHost = config.tierSpec.databasePlacement === "own-host";
    const runs = { postgres: config.database.engine === "postgres", mariadb: ownHost && Boolean(config.accessories.mariadb) };
    if (runs.postgres || runs.mariadb) {
      const firewall = ownHost
        ? new Firewall(`${name}-db-firewall`, { cloud, network, inbound: databaseRules(config.adminCidrs, appFirewall, runs) }, parent)
        : undefined;
      this.database = new DatabaseHost(`${name}-db`, { config, network, firewall }, parent);
    }

    const domains = [config.domain, ...config.extraDomains];
    // The certificate of the study's own names; each site and the staging copy gets a certificate of
    // its own on the host (see src/host/web/nginx.ts), so Tls holds only these, and DNS all of them.
    const extras = extraApps(config);
    const tls = new Tls(`${name}-tls`, { domains, email: config.adminEmail, acmeDirectory: config.tls.acmeDirectory, caBundle: config.tls.caBundle }, parent);
    this.app = new AppServer(`${name}-app`, { config, network, firewall: appFirewall, tls, database: this.database }, parent);
    this.dns = new Dns(
      `${name}-dns`,
      {
        cloud,
        zone: config.dnsZone,
        names: [...domains, ...extras.flatMap((a) => a.domains)],
        ipv4: this.app.publicIpv4,
        ipv6: this.app.ipv6,
        caaIssuers: tls.caaIssuers,
        manage: config.manageDns,
      },
      parent,
    );

    this.url = `https://${config.domain}/`;
    this.urls = Object.fromEntries([[config.app.name, this.url], ...extras.map((a) => [a.app.name, `https://${a.domains[0]}/`])]);
    this.sshCommand = pulumi.interpolate`ssh ${config.adminUser}@${this.app.publicIpv4}`;
    this.cost = summarize(cloud, [...this.app.costItems, ...(this.database?.costItems ?? [])]);
    this.registerOutputs({ url: this.url, sshCommand: this.sshCommand, monthlyUsd: this.cost.monthlyUsd });
  }
}
