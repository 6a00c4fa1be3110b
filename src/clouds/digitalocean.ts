// DigitalOcean's resources behind the cloud-neutral components: VPC, tag-based cloud firewall,
// droplet + volume + reserved IP, and DNS records in a domain the account already holds.
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { attachment, holdsData, MACHINE_IGNORE_CHANGES } from "./options";
import { packUserData } from "./userData";
import type { CloudProvider, DnsSpec, FirewallHandle, InboundRule, NetworkHandle, ServerHandle, ServerSpec } from "./types";

/**
 * The image slug of Ubuntu 24.04 LTS. A running droplet is never replaced when DigitalOcean publishes
 * a newer build behind the slug (the slug, our input, does not change); a droplet that is replaced
 * for another reason boots the build current at that time.
 */
export const UBUNTU_IMAGE = "ubuntu-24-04-x64";

const EVERYWHERE = ["0.0.0.0/0", "::/0"];

function createNetwork(parent: pulumi.Resource, name: string, region: string): NetworkHandle {
  // No ipRange: DigitalOcean picks one that does not overlap the account's other VPCs.
  const vpc = new digitalocean.Vpc(name, { region, description: "studyhost private network" }, { parent });
  return { id: vpc.id, cidr: vpc.ipRange };
}

function createFirewall(parent: pulumi.Resource, name: string, _network: NetworkHandle, inbound: readonly InboundRule[]): FirewallHandle {
  // Droplets join the firewall by carrying its tag, so the firewall exists before any droplet and
  // other firewalls can admit "the app host" by tag. The tag is autonamed, hence unique.
  const tag = new digitalocean.Tag(`${name}-members`, {}, { parent });
  const firewall = new digitalocean.Firewall(
    name,
    {
      tags: [tag.name],
      inboundRules: inbound.map((rule) => ({
        protocol: "tcp",
        portRange: String(rule.port),
        ...("anywhere" in rule.from ? { sourceAddresses: EVERYWHERE } : {}),
        ...("cidrs" in rule.from ? { sourceAddresses: [...rule.from.cidrs] } : {}),
        ...("members" in rule.from ? { sourceTags: [rule.from.members.memberRef] } : {}),
      })),
      outboundRules: [
        { protocol: "tcp", portRange: "1-65535", destinationAddresses: EVERYWHERE },
        { protocol: "udp", portRange: "1-65535", destinationAddresses: EVERYWHERE },
        { protocol: "icmp", destinationAddresses: EVERYWHERE },
      ],
    },
    { parent },
  );
  return { memberRef: tag.name, resource: firewall };
}

function createServer(parent: pulumi.Resource, name: string, spec: ServerSpec): ServerHandle {
  // No description: DigitalOcean cannot change one in place, so editing it would replace the volume.
  const volume = new digitalocean.Volume(`${name}-data`, { region: spec.region, size: spec.volumeGb }, holdsData(parent));
  // DigitalOcean names the volume's device after the volume.
  const device = pulumi.interpolate`/dev/disk/by-id/scsi-0DO_Volume_${volume.name}`;
  const userData = spec.userData(device);
  const droplet = new digitalocean.Droplet(
    `${name}-server`,
    {
      image: UBUNTU_IMAGE,
      region: spec.region,
      size: spec.size.slug,
      vpcUuid: spec.network.id,
      ipv6: true,
      monitoring: true,
      tags: [spec.firewall.memberRef],
      // SSH keys reach the admin user through cloud-init (users.ssh_authorized_keys), not the
      // account's key list: registering a key that the account already holds fails.
      userData: userData.apply((text) => packUserData("digitalocean", text, name)),
    },
    {
      ...(spec.machineHoldsData ? holdsData(parent) : { parent }),
      ignoreChanges: [...MACHINE_IGNORE_CHANGES.digitalocean],
      // The firewall applies by tag: it must exist before the droplet boots, not just the tag.
      dependsOn: [spec.firewall.resource],
    },
  );
  const dropletId = droplet.id.apply(Number);
  new digitalocean.VolumeAttachment(`${name}-data-attachment`, { dropletId, volumeId: volume.id }, attachment(parent));
  let publicIpv4 = droplet.ipv4Address;
  if (spec.staticIp) {
    const ip = new digitalocean.ReservedIp(`${name}-ip`, { region: spec.region }, { parent });
    new digitalocean.ReservedIpAssignment(`${name}-ip-assignment`, { ipAddress: ip.ipAddress, dropletId }, attachment(parent));
    publicIpv4 = ip.ipAddress;
  }
  return {
    id: droplet.id,
    publicIpv4,
    privateIpv4: droplet.ipv4AddressPrivate,
    ipv6: droplet.ipv6Address,
    userData,
  };
}

/** The record name relative to its zone: "@" for the apex. */
export function relativeName(fqdn: string, zone: string): string {
  if (fqdn === zone) return "@";
  if (!fqdn.endsWith(`.${zone}`)) throw new Error(`${fqdn} is not inside the DNS zone ${zone} (studyhost:dnsZone)`);
  return fqdn.slice(0, -(zone.length + 1));
}

function createDnsRecords(parent: pulumi.Resource, name: string, spec: DnsSpec): void {
  // Child names carry the DNS name, not a position, so reordering extraDomains replaces nothing.
  for (const fqdn of spec.names) {
    const record = relativeName(fqdn, spec.zone);
    const base = `${name}-${fqdn}`;
    new digitalocean.DnsRecord(`${base}-a`, { domain: spec.zone, name: record, type: "A", value: spec.ipv4, ttl: 300 }, { parent });
    if (spec.ipv6) {
      new digitalocean.DnsRecord(`${base}-aaaa`, { domain: spec.zone, name: record, type: "AAAA", value: spec.ipv6, ttl: 300 }, { parent });
    }
    for (const issuer of spec.caaIssuers) {
      // DigitalOcean's API wants the CAA value as a fully qualified name, trailing dot included.
      new digitalocean.DnsRecord(
        `${base}-caa-${issuer}`,
        { domain: spec.zone, name: record, type: "CAA", flags: 0, tag: "issue", value: `${issuer}.`, ttl: 3600 },
        { parent },
      );
    }
  }
}

export const provider: CloudProvider = { name: "digitalocean", createNetwork, createFirewall, createServer, createDnsRecords };
