// The seam between cloud-neutral components and the few resources that differ per cloud. A new cloud
// (or an existing server reached over SSH) implements CloudProvider in one new file in this folder.
import type * as pulumi from "@pulumi/pulumi";
import type { CloudName, MachineSize } from "../tiers";

/** The private network a study's hosts share. */
export interface NetworkHandle {
  readonly id: pulumi.Output<string>;
  /** Its address range, for PostgreSQL's pg_hba and host firewalls. */
  readonly cidr: pulumi.Output<string>;
  /** The region it lives in (AWS resources name it themselves). */
  readonly region?: string;
  /** AWS: the subnet servers go in and its availability zone. */
  readonly subnetId?: pulumi.Output<string>;
  readonly zone?: pulumi.Output<string>;
}

/** A cloud firewall that servers join; other firewalls' rules can admit its members. */
export interface FirewallHandle {
  /** DigitalOcean: the tag its droplets carry. AWS: the security group id. */
  readonly memberRef: pulumi.Output<string>;
  /** The firewall itself: machines wait for it, so none boots unguarded. */
  readonly resource: pulumi.Resource;
}

/** Where an inbound rule admits traffic from. */
export type RuleSource = { readonly anywhere: true } | { readonly cidrs: readonly string[] } | { readonly members: FirewallHandle };

export interface InboundRule {
  readonly description: string;
  readonly port: number;
  readonly from: RuleSource;
}

export interface ServerSpec {
  readonly region: string;
  readonly size: MachineSize;
  readonly volumeGb: number;
  readonly network: NetworkHandle;
  readonly firewall: FirewallHandle;
  /** Renders user data once the data volume's device path is known. */
  readonly userData: (dataDevice: pulumi.Output<string>) => pulumi.Output<string>;
  /** Protect the machine itself too (database hosts); the data volume is always protected. */
  readonly machineHoldsData: boolean;
  /**
   * Give the server a reserved / elastic IP that outlives it (what DNS points at). Without one it
   * keeps the address the cloud gives at launch (enough for SSH and updates on a database host).
   */
  readonly staticIp: boolean;
}

export interface ServerHandle {
  readonly id: pulumi.Output<string>;
  readonly publicIpv4: pulumi.Output<string>;
  readonly privateIpv4: pulumi.Output<string>;
  /** Undefined where the cloud (as we configure it) gives no IPv6. */
  readonly ipv6?: pulumi.Output<string>;
  /**
   * The host's whole #cloud-config, as rendered by `ServerSpec.userData` (files and secrets included).
   * DigitalOcean boots with it as it is; AWS boots with it split (src/clouds/hostFilesBundle.ts).
   */
  readonly userData: pulumi.Output<string>;
  /** The machine's ARN, where the cloud has them (AWS): what a power schedule's role may act on. */
  readonly arn?: pulumi.Output<string>;
}

/** A machine started and stopped on a schedule (studyhost:powerSchedule), in the cloud's own terms. */
export interface PowerScheduleSpec {
  readonly region: string;
  readonly instanceId: pulumi.Output<string>;
  readonly instanceArn: pulumi.Output<string>;
  /** The config's cron specs, for descriptions, and the cloud's expressions for them. */
  readonly on: string;
  readonly off: string;
  readonly onExpression: string;
  readonly offExpression: string;
  /** An IANA time zone both expressions are read in. */
  readonly timezone: string;
}

export interface DnsSpec {
  readonly zone: string;
  readonly names: readonly string[];
  readonly ipv4: pulumi.Input<string>;
  readonly ipv6?: pulumi.Input<string>;
  /** CAA `issue` values, e.g. letsencrypt.org. */
  readonly caaIssuers: readonly string[];
}

export interface CloudProvider {
  readonly name: CloudName;
  createNetwork(parent: pulumi.Resource, name: string, region: string): NetworkHandle;
  createFirewall(parent: pulumi.Resource, name: string, network: NetworkHandle, inbound: readonly InboundRule[]): FirewallHandle;
  createServer(parent: pulumi.Resource, name: string, spec: ServerSpec): ServerHandle;
  createDnsRecords(parent: pulumi.Resource, name: string, spec: DnsSpec): void;
  /**
   * Start and stop a server on a schedule, as children of `parent` named `<name>-power-*`. Only on
   * clouds where a stopped machine stops billing (AWS); the config refuses the key elsewhere.
   */
  createPowerSchedule?(parent: pulumi.Resource, name: string, spec: PowerScheduleSpec): void;
}
