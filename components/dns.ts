import * as pulumi from "@pulumi/pulumi";
import { loadCloud } from "../src/clouds";
import type { CloudName } from "../src/tiers";

export interface DnsArgs {
  /**
   * The cloud whose DNS holds the zone: DigitalOcean's domains or Route 53. Changing it replaces every
   * record (created in the other cloud's DNS, deleted from the old). Records cost nothing of their own
   * (see the class for the hosted zone's price).
   * @example "digitalocean"
   */
  readonly cloud: CloudName;
  /**
   * The zone (a DigitalOcean domain or a Route 53 public hosted zone) that already exists in the
   * account. Changing it replaces every record.
   * @example "example.org"
   */
  readonly zone: string;
  /**
   * The names to point at the server, each inside `zone`. Adding or removing one adds or removes its
   * records only (each record is named after its DNS name, not its position in the list).
   * @example ["study.example.org"]
   */
  readonly names: readonly string[];
  /**
   * The IPv4 address for the A records: the app server's reserved / elastic IP, which outlives the
   * machine. Changing it updates the A records in place.
   * @example appServer.publicIpv4
   */
  readonly ipv4: pulumi.Input<string>;
  /**
   * The IPv6 address for AAAA records, where the cloud gives one (DigitalOcean: the droplet's own, so
   * a replaced droplet brings a new one). Changing it updates the AAAA records in place; adding or
   * removing it adds or removes them.
   * @default undefined (no AAAA records; AWS as configured)
   * @example appServer.ipv6
   */
  readonly ipv6?: pulumi.Input<string>;
  /**
   * CAA `issue` values: the only certificate authorities allowed to issue for the names. Changing the
   * list adds or removes records on DigitalOcean (one record per issuer) and updates Route 53's one CAA
   * record per name in place; an empty list removes the CAA records.
   * @default [] (no CAA record: any CA may issue)
   * @example tls.caaIssuers (["letsencrypt.org"] unless another ACME server is used)
   */
  readonly caaIssuers?: readonly string[];
  /**
   * Create the records. With false nothing is created and `records` lists what to add at the DNS
   * provider the institution uses. Changing it to false deletes the records studyhost made (the names
   * stop resolving until someone adds them elsewhere); changing it back creates them again.
   * @default true
   * @example false
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
    this.records = pulumi
      .all([args.ipv4, args.ipv6])
      .apply(([v4, v6]) =>
        args.names.flatMap((n): DnsRecordText[] => [
          { name: n, type: "A", value: v4 },
          ...(v6 ? [{ name: n, type: "AAAA" as const, value: v6 }] : []),
          ...caaIssuers.map((i) => ({ name: n, type: "CAA" as const, value: `0 issue "${i}"` })),
        ]),
      );
    this.registerOutputs({ records: this.records });
  }
}
