import * as pulumi from "@pulumi/pulumi";
import { loadCloud } from "../src/clouds";
import type { CloudName } from "../src/tiers";

export interface DnsArgs {
  /** The cloud whose DNS holds the zone. @example "digitalocean" */
  readonly cloud: CloudName;
  /**
   * The zone (a DigitalOcean domain or a Route 53 public hosted zone) that already exists in the
   * account. Changing it replaces every record.
   * @example "example.org"
   */
  readonly zone: string;
  /**
   * The names to point at the server, each inside `zone`. Adding or removing one adds or removes its
   * records only.
   * @example ["study.example.org"]
   */
  readonly names: readonly string[];
  /** The IPv4 address for the A records (the reserved / elastic IP). */
  readonly ipv4: pulumi.Input<string>;
  /** The IPv6 address for AAAA records, where the cloud gives one. Default: no AAAA records. */
  readonly ipv6?: pulumi.Input<string>;
  /** CAA `issue` values, e.g. ["letsencrypt.org"] from Tls. Default: no CAA record. */
  readonly caaIssuers?: readonly string[];
  /**
   * Create the records (default true). With false nothing is created and `records` lists what to add
   * at the DNS provider the institution uses.
   * @default true
   */
  readonly manage?: boolean;
}

/** One DNS record, as a person would type it into a DNS console. */
export interface DnsRecordText {
  readonly name: string;
  readonly type: "A" | "AAAA" | "CAA";
  readonly value: string;
}

/**
 * DNS records for the study: A (and AAAA where the cloud gives IPv6) for the domain and its extra
 * names, and a CAA record per name that allows only Let's Encrypt. DigitalOcean DNS is free; a
 * Route 53 hosted zone costs $0.50 a month, which the zone's owner already pays.
 */
export class Dns extends pulumi.ComponentResource {
  /** Every record, created or (with manage: false) to be created by hand. */
  readonly records: pulumi.Output<DnsRecordText[]>;

  constructor(name: string, args: DnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("studyhost:dns:Dns", name, {}, opts);
    const caaIssuers = args.caaIssuers ?? [];
    if (args.manage ?? true) {
      loadCloud(args.cloud).createDnsRecords(this, name, { zone: args.zone, names: args.names, ipv4: args.ipv4, ipv6: args.ipv6, caaIssuers });
    }
    this.records = pulumi.all([args.ipv4, args.ipv6]).apply(([v4, v6]) =>
      args.names.flatMap((n): DnsRecordText[] => [
        { name: n, type: "A", value: v4 },
        ...(v6 ? [{ name: n, type: "AAAA" as const, value: v6 }] : []),
        ...caaIssuers.map((i) => ({ name: n, type: "CAA" as const, value: `0 issue "${i}"` })),
      ]),
    );
    this.registerOutputs({ records: this.records });
  }
}
