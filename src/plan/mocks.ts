// Pulumi's mock engine standing in for the clouds: every resource gets plausible, deterministic
// outputs (ids, addresses) derived from its name, so two plans of the same config are identical and
// a plan of a changed config differs only where the config did. Used by the offline plan and tests.
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

const digest = (text: string) => createHash("sha256").update(text).digest();
const hex = (text: string, n: number) => digest(text).toString("hex").slice(0, n);
const octet = (text: string, salt: string) => (digest(text + salt)[0] % 250) + 2;
const numericId = (text: string) => String(100000000 + (digest(text).readUInt32BE(0) % 800000000));

/** Documentation address ranges (RFC 5737, RFC 3849), so no plan ever shows a real address. */
const publicV4 = (name: string) => `203.0.113.${octet(name, "v4")}`;
const reservedV4 = (name: string) => `198.51.100.${octet(name, "reserved")}`;
const privateV4 = (name: string, prefix: string) => `${prefix}.${octet(name, "private")}`;
const publicV6 = (name: string) => `2001:db8::${hex(name, 4)}`;

type State = Record<string, unknown>;

/** The AWS account the mock engine pretends to be in (AWS's documentation example account). */
export const MOCK_AWS_ACCOUNT = "123456789012";

/** Outputs the real provider would compute, per resource type. */
function computedState(type: string, name: string, inputs: State): { id: string; state: State } {
  const autoname = (inputs.name as string | undefined) ?? `${name}-${hex(name, 7)}`;
  switch (type) {
    case "digitalocean:index/droplet:Droplet":
      return {
        id: numericId(name),
        state: { name: autoname, ipv4Address: publicV4(name), ipv4AddressPrivate: privateV4(name, "10.116.0"), ipv6Address: publicV6(name), status: "active" },
      };
    case "digitalocean:index/reservedIp:ReservedIp":
      return { id: reservedV4(name), state: { ipAddress: reservedV4(name) } };
    case "digitalocean:index/vpc:Vpc":
      return { id: `${hex(name, 8)}-vpc-mock`, state: { name: autoname, ipRange: "10.116.0.0/20" } };
    case "digitalocean:index/volume:Volume":
      return { id: `${hex(name, 8)}-volume-mock`, state: { name: autoname } };
    case "digitalocean:index/tag:Tag":
      return { id: autoname, state: { name: autoname } };
    case "digitalocean:index/firewall:Firewall":
      return { id: `${hex(name, 8)}-firewall-mock`, state: { name: autoname } };
    case "aws:ec2/instance:Instance":
      return {
        id: `i-0${hex(name, 16)}`,
        state: {
          arn: `arn:aws:ec2:${inputs.region ?? "us-east-1"}:${MOCK_AWS_ACCOUNT}:instance/i-0${hex(name, 16)}`,
          publicIp: publicV4(name),
          privateIp: privateV4(name, "10.42.1"),
          primaryNetworkInterfaceId: `eni-0${hex(name, 16)}`,
        },
      };
    case "aws:iam/role:Role":
      return { id: autoname, state: { name: autoname, arn: `arn:aws:iam::${MOCK_AWS_ACCOUNT}:role/${autoname}` } };
    case "aws:iam/instanceProfile:InstanceProfile":
      return { id: autoname, state: { name: autoname, arn: `arn:aws:iam::${MOCK_AWS_ACCOUNT}:instance-profile/${autoname}` } };
    case "aws:s3/bucket:Bucket": {
      // S3 bucket names are global and lower-case; the provider adds a random suffix to the resource name.
      const bucket = (inputs.bucket as string | undefined) ?? `${name}-${hex(name, 7)}`.toLowerCase();
      return { id: bucket, state: { bucket, arn: `arn:aws:s3:::${bucket}`, region: inputs.region } };
    }
    case "aws:ec2/eip:Eip":
      return { id: `eipalloc-0${hex(name, 16)}`, state: { publicIp: reservedV4(name), allocationId: `eipalloc-0${hex(name, 16)}` } };
    case "aws:ebs/volume:Volume":
      return { id: mockVolumeId(name), state: {} };
    case "aws:ec2/subnet:Subnet":
      return { id: `subnet-0${hex(name, 16)}`, state: { availabilityZone: inputs.availabilityZone } };
    case "aws:ec2/securityGroup:SecurityGroup":
      return { id: `sg-0${hex(name, 16)}`, state: {} };
    case "random:index/randomPassword:RandomPassword":
      // A visible placeholder: a plan never holds a real secret.
      return { id: name, state: { result: `plan-placeholder-${name}` } };
    default:
      return { id: `${name}-${hex(type + name, 8)}`, state: {} };
  }
}

/** The id the mock AWS gives the EBS volume of this resource name. */
export const mockVolumeId = (name: string) => `vol-0${hex(name, 16)}`;

/** The id the mock AWS gives the image of this name, so tests can see which image was looked up. */
export const mockImageId = (imageName: string) => `ami-0${hex(imageName, 16)}`;

/** Results of the data sources the stacks call (functions, in Pulumi's terms). */
function callResult(token: string, inputs: State): State {
  switch (token) {
    case "aws:ec2/getAmi:getAmi": {
      const filters = (inputs.filters as { name: string; values: string[] }[] | undefined) ?? [];
      const imageName = filters.find((f) => f.name === "name")?.values[0] ?? "unknown";
      return { id: mockImageId(imageName), name: imageName, imageId: mockImageId(imageName) };
    }
    case "aws:route53/getZone:getZone":
      return { zoneId: `Z0${hex(String(inputs.name), 12).toUpperCase()}`, name: inputs.name };
    default:
      return {};
  }
}

export const studyMocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs) {
    const { id, state } = computedState(args.type, args.name, args.inputs);
    return { id, state: { ...args.inputs, ...state } };
  },
  call(args: pulumi.runtime.MockCallArgs) {
    return callResult(args.token, args.inputs);
  },
};
