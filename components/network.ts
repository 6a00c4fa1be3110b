import * as pulumi from "@pulumi/pulumi";
import { loadCloud, NetworkHandle } from "../src/clouds";
import type { CloudName } from "../src/tiers";

export interface NetworkArgs {
  /**
   * The cloud to build on. Changing this replaces every resource of the study.
   * @example "digitalocean"
   */
  readonly cloud: CloudName;
  /**
   * The region. Changing this replaces the network and every host in it.
   * @example "fra1"
   */
  readonly region: string;
}

/**
 * The study's private network: a DigitalOcean VPC, or an AWS VPC with one public subnet, an internet
 * gateway and a default security group stripped of its rules. The database host is reachable only
 * inside it. Costs nothing on either cloud.
 *
 * Not one of the five components the first issue named: the two-server tier needs a private network
 * that both hosts and both firewalls refer to, so it is a component of its own rather than a side
 * effect of whichever host happens to be created first.
 */
export class Network extends pulumi.ComponentResource {
  /** The VPC's id. */
  readonly id: pulumi.Output<string>;
  /** The address range hosts get private addresses from. */
  readonly cidr: pulumi.Output<string>;
  /** For the cloud modules: the handle hosts and firewalls attach to. */
  readonly handle: NetworkHandle;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("studyhost:network:Network", name, {}, opts);
    this.handle = loadCloud(args.cloud).createNetwork(this, name, args.region);
    this.id = this.handle.id;
    this.cidr = this.handle.cidr;
    this.registerOutputs({ id: this.id, cidr: this.cidr });
  }
}
