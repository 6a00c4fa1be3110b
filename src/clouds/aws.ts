// AWS's resources behind the cloud-neutral components: a VPC with one public subnet, security groups,
// an EC2 instance + EBS data volume + elastic IP, and Route 53 records in an existing hosted zone.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { attachment, holdsData, MACHINE_IGNORE_CHANGES } from "./options";
import type { CloudProvider, DnsSpec, FirewallHandle, InboundRule, NetworkHandle, ServerHandle, ServerSpec } from "./types";
import { CATALOG } from "../tiers";
import { packUserData } from "./userData";
import { createPowerSchedule } from "./awsPowerSchedule";
import { deliverHostFiles } from "./awsHostFiles";

/** Canonical's AWS account, the publisher of Ubuntu's official images. */
export const CANONICAL_OWNER = "099720109477";
/**
 * One fixed Ubuntu 24.04 LTS build, looked up by name in each region. A fixed build (not "latest")
 * means a new Ubuntu image never replaces a running instance; bump it deliberately.
 */
export const UBUNTU_BUILD = "20251022";
export const ubuntuImageName = (arch: "x86_64" | "arm64") =>
  `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${arch === "arm64" ? "arm64" : "amd64"}-server-${UBUNTU_BUILD}`;

export const VPC_CIDR = "10.42.0.0/16";
export const SUBNET_CIDR = "10.42.1.0/24";
/** The device name the data volume is attached as; Nitro instances expose it as NVMe (see below). */
const DATA_DEVICE_NAME = "/dev/sdf";

// Every regional resource names its region itself (pulumi-aws v7's `region` input), so the study's
// region wins over whatever region the AWS provider or the environment (AWS_REGION) is set to.

function createNetwork(parent: pulumi.Resource, name: string, region: string): NetworkHandle {
  const tags = { Name: name, "studyhost:role": "network" };
  const vpc = new aws.ec2.Vpc(name, { region, cidrBlock: VPC_CIDR, enableDnsHostnames: true, enableDnsSupport: true, tags }, { parent });
  // A fresh VPC's default security group lets every member reach every other on every port. Strip it
  // of all rules so the only ways in are the ones our security groups name.
  new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { region, vpcId: vpc.id, tags }, { parent });
  const gateway = new aws.ec2.InternetGateway(`${name}-gateway`, { region, vpcId: vpc.id, tags }, { parent });
  const zone = `${region}a`;
  const subnet = new aws.ec2.Subnet(
    `${name}-public`,
    // Instances get an address at launch so cloud-init can install packages before the elastic IP lands.
    { region, vpcId: vpc.id, cidrBlock: SUBNET_CIDR, availabilityZone: zone, mapPublicIpOnLaunch: true, tags },
    { parent },
  );
  const routes = new aws.ec2.RouteTable(
    `${name}-routes`,
    { region, vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }], tags },
    { parent },
  );
  new aws.ec2.RouteTableAssociation(`${name}-public-routes`, { region, subnetId: subnet.id, routeTableId: routes.id }, { parent });
  return { id: vpc.id, cidr: pulumi.output(SUBNET_CIDR), region, subnetId: subnet.id, zone: subnet.availabilityZone };
}

function createFirewall(parent: pulumi.Resource, name: string, network: NetworkHandle, inbound: readonly InboundRule[]): FirewallHandle {
  const group = new aws.ec2.SecurityGroup(
    name,
    {
      region: network.region,
      vpcId: network.id,
      description: "studyhost: only the listed ports are open",
      ingress: inbound.map((rule) => {
        const base = { description: rule.description, protocol: "tcp", fromPort: rule.port, toPort: rule.port };
        if ("anywhere" in rule.from) return { ...base, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] };
        if ("cidrs" in rule.from) {
          return {
            ...base,
            cidrBlocks: rule.from.cidrs.filter((c) => !c.includes(":")),
            ipv6CidrBlocks: rule.from.cidrs.filter((c) => c.includes(":")),
          };
        }
        return { ...base, securityGroups: [rule.from.members.memberRef] };
      }),
      egress: [{ description: "all outbound", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
      tags: { Name: name },
    },
    { parent },
  );
  return { memberRef: group.id, resource: group };
}

function createServer(parent: pulumi.Resource, name: string, spec: ServerSpec): ServerHandle {
  const tags = { Name: name };
  const region = spec.region;
  const image = aws.ec2.getAmiOutput(
    {
      region,
      owners: [CANONICAL_OWNER],
      mostRecent: true,
      // Canonical deprecates builds after two years; a pinned build must still be found.
      includeDeprecated: true,
      filters: [{ name: "name", values: [ubuntuImageName(spec.size.arch)] }],
    },
    { parent },
  );
  const volume = new aws.ebs.Volume(
    `${name}-data`,
    { region, availabilityZone: spec.network.zone!, size: spec.volumeGb, type: "gp3", encrypted: true, tags },
    holdsData(parent),
  );
  // Nitro instances (t3, t4g) show EBS volumes as NVMe devices whose serial is the volume id.
  const device = pulumi.interpolate`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume.id.apply((id) => id.replace("-", ""))}`;
  const userData = spec.userData(device);
  // The files travel in an S3 object the instance's role reads (./hostFilesBundle.ts): user data alone
  // is limited to 16 KB.
  const delivery = deliverHostFiles(parent, name, region, userData);
  const instance = new aws.ec2.Instance(
    `${name}-server`,
    {
      region,
      ami: image.id,
      instanceType: spec.size.slug,
      subnetId: spec.network.subnetId!,
      availabilityZone: spec.network.zone!,
      vpcSecurityGroupIds: [spec.firewall.memberRef],
      // Gzipped too (cloud-init recognises gzip), so the limit is far away.
      userDataBase64: delivery.userData.apply((text) => packUserData("aws", text, name)),
      iamInstanceProfile: delivery.instanceProfile.name,
      rootBlockDevice: { volumeSize: CATALOG.aws.bootDiskGb, volumeType: "gp3", encrypted: true },
      // IMDSv2 only: a request forged through the app cannot read the instance's metadata.
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      tags,
    },
    {
      ...(spec.machineHoldsData ? holdsData(parent) : { parent }),
      ignoreChanges: [...MACHINE_IGNORE_CHANGES.aws],
      dependsOn: delivery.ready,
    },
  );
  new aws.ec2.VolumeAttachment(
    `${name}-data-attachment`,
    { region, deviceName: DATA_DEVICE_NAME, volumeId: volume.id, instanceId: instance.id, stopInstanceBeforeDetaching: true },
    attachment(parent),
  );
  let publicIpv4 = instance.publicIp;
  if (spec.staticIp) {
    const ip = new aws.ec2.Eip(`${name}-ip`, { region, domain: "vpc", tags }, { parent });
    new aws.ec2.EipAssociation(`${name}-ip-assignment`, { region, allocationId: ip.allocationId, instanceId: instance.id }, attachment(parent));
    publicIpv4 = ip.publicIp;
  }
  return { id: instance.id, arn: instance.arn, publicIpv4, privateIpv4: instance.privateIp, userData };
}

function createDnsRecords(parent: pulumi.Resource, name: string, spec: DnsSpec): void {
  const zone = aws.route53.getZoneOutput({ name: spec.zone, privateZone: false }, { parent });
  for (const fqdn of spec.names) {
    const base = `${name}-${fqdn}`;
    new aws.route53.Record(`${base}-a`, { zoneId: zone.zoneId, name: fqdn, type: "A", ttl: 300, records: [spec.ipv4] }, { parent });
    if (spec.ipv6) {
      new aws.route53.Record(`${base}-aaaa`, { zoneId: zone.zoneId, name: fqdn, type: "AAAA", ttl: 300, records: [spec.ipv6] }, { parent });
    }
    if (spec.caaIssuers.length > 0) {
      const records = spec.caaIssuers.map((issuer) => `0 issue "${issuer}"`);
      new aws.route53.Record(`${base}-caa`, { zoneId: zone.zoneId, name: fqdn, type: "CAA", ttl: 3600, records }, { parent });
    }
  }
}

export const provider: CloudProvider = { name: "aws", createNetwork, createFirewall, createServer, createDnsRecords, createPowerSchedule };
