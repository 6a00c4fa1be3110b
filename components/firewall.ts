import * as pulumi from "@pulumi/pulumi";
import { FirewallHandle, InboundRule, loadCloud } from "../src/clouds";
import type { CloudName } from "../src/tiers";
import type { Network } from "./network";

/**
 * An inbound rule whose source may be another Firewall's members. Every field changes in place: the
 * firewall is updated, nothing is replaced.
 */
export interface FirewallRule {
  /**
   * What the rule is for, shown in the AWS console (DigitalOcean's firewall rules have no description,
   * so there it is only in the plan). Changing it updates the security group in place.
   * @example "https from anywhere"
   */
  readonly description: string;
  /** The TCP port. Changing it updates the firewall in place. @example 443 */
  readonly port: number;
  /**
   * Who may connect: everyone (IPv4 and IPv6), some CIDR blocks, or the servers that joined another
   * Firewall (DigitalOcean: by its tag; AWS: by its security group), which is how the database host
   * admits only the app host whatever its address. Changing it updates the firewall in place.
   * @example { cidrs: ["203.0.113.0/24", "2001:db8:1::/48"] }
   * @example { members: appFirewall }
   */
  readonly from: { readonly anywhere: true } | { readonly cidrs: readonly string[] } | { readonly members: Firewall };
}

export interface FirewallArgs {
  /** The cloud. Changing this replaces the firewall. @example "aws" */
  readonly cloud: CloudName;
  /**
   * The network whose servers the firewall guards. Changing this replaces the firewall on AWS (a
   * security group belongs to one VPC); on DigitalOcean, whose firewalls apply by tag in any network,
   * it changes nothing.
   * @example new Network("study-network", { cloud: "aws", region: "eu-west-1" })
   */
  readonly network: Network;
  /**
   * Every inbound rule; anything not listed is refused. Outbound traffic is open (package updates,
   * ACME, offsite backups). Changing the rules updates the firewall in place.
   * @example [...webRules(["203.0.113.0/24"])]
   */
  readonly inbound: readonly FirewallRule[];
}

/**
 * A cloud firewall in front of the host firewall: a DigitalOcean Firewall applied by tag, or an AWS
 * security group. Servers join it through AppServer's / DatabaseHost's `firewall` argument; rules of
 * other firewalls can admit its members. Costs nothing on either cloud.
 */
export class Firewall extends pulumi.ComponentResource {
  /** DigitalOcean: the tag members carry. AWS: the security group id. */
  readonly memberRef: pulumi.Output<string>;
  /** For the cloud modules. */
  readonly handle: FirewallHandle;
  /** The rules as given, for plans and tests. */
  readonly inbound: readonly FirewallRule[];

  constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("studyhost:network:Firewall", name, {}, opts);
    this.inbound = args.inbound;
    const rules: InboundRule[] = args.inbound.map((r) => ({
      description: r.description,
      port: r.port,
      from: "members" in r.from ? { members: r.from.members.handle } : r.from,
    }));
    this.handle = loadCloud(args.cloud).createFirewall(this, name, args.network.handle, rules);
    this.memberRef = this.handle.memberRef;
    this.registerOutputs({ memberRef: this.memberRef });
  }
}

/** A web host's rules: 80 and 443 from anywhere, SSH only from the admin networks. */
export function webRules(adminCidrs: readonly string[]): FirewallRule[] {
  return [
    { description: "http from anywhere (redirects to https; ACME challenges)", port: 80, from: { anywhere: true } },
    { description: "https from anywhere", port: 443, from: { anywhere: true } },
    { description: "ssh from the admin networks", port: 22, from: { cidrs: adminCidrs } },
  ];
}

/**
 * A database host's rules: each database it runs only from the app host's firewall members (PostgreSQL
 * on 5432, MariaDB on 3306), SSH from admins.
 * @param runs what the host runs (default: PostgreSQL only)
 */
export function databaseRules(
  adminCidrs: readonly string[],
  appFirewall: Firewall,
  runs: { readonly postgres: boolean; readonly mariadb: boolean } = { postgres: true, mariadb: false },
): FirewallRule[] {
  return [
    ...(runs.postgres ? [{ description: "postgresql from the app host only", port: 5432, from: { members: appFirewall } }] : []),
    ...(runs.mariadb ? [{ description: "mariadb from the app host only", port: 3306, from: { members: appFirewall } }] : []),
    { description: "ssh from the admin networks", port: 22, from: { cidrs: adminCidrs } },
  ];
}
