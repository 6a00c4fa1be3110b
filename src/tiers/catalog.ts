// What each cloud sells that a study can use: machine sizes with their monthly list prices, storage
// and address prices, and the regions. Plain data, no cloud SDK, so that validating a configuration
// and pricing a plan never load a provider package.
//
// Prices are list prices collected for ../shared/notes/server-practice.md (DigitalOcean pricing page;
// AWS us-east-1 on-demand). They change: check them before a release. AWS prices differ by region;
// we show us-east-1's everywhere and say so in every plan.

export const CLOUDS = ["digitalocean", "aws"] as const;
export type CloudName = (typeof CLOUDS)[number];

/** Hours in the month as cloud bills count them (AWS bills 730 hours a month). */
export const HOURS_PER_MONTH = 730;

export interface MachineSize {
  /** The cloud's own name for it: a droplet slug or an EC2 instance type. */
  readonly slug: string;
  readonly vcpus: number;
  readonly memoryGb: number;
  /** Local disk included in the price (0 where the disk is a separately billed volume). */
  readonly includedDiskGb: number;
  readonly monthlyUsd: number;
  readonly arch: "x86_64" | "arm64";
}

export interface CloudCatalog {
  readonly sizes: readonly MachineSize[];
  /** Block storage (DigitalOcean Volumes, EBS gp3), per GB-month. */
  readonly volumeUsdPerGbMonth: number;
  /** A static public IPv4 address (reserved / elastic IP) attached to a running server, per month. */
  readonly publicIpv4UsdPerMonth: number;
  /** The boot disk, for clouds that bill it apart from the machine (AWS), in GB. */
  readonly bootDiskGb: number;
  readonly regions: readonly string[];
  readonly defaultRegion: string;
  /** Where the prices above hold. */
  readonly priceNote: string;
}

const awsHourly = (usdPerHour: number) => Math.round(usdPerHour * HOURS_PER_MONTH * 100) / 100;

export const CATALOG: Record<CloudName, CloudCatalog> = {
  digitalocean: {
    sizes: [
      { slug: "s-1vcpu-512mb-10gb", vcpus: 1, memoryGb: 0.5, includedDiskGb: 10, monthlyUsd: 4, arch: "x86_64" },
      { slug: "s-1vcpu-1gb", vcpus: 1, memoryGb: 1, includedDiskGb: 25, monthlyUsd: 6, arch: "x86_64" },
      { slug: "s-1vcpu-2gb", vcpus: 1, memoryGb: 2, includedDiskGb: 50, monthlyUsd: 12, arch: "x86_64" },
      { slug: "s-2vcpu-2gb", vcpus: 2, memoryGb: 2, includedDiskGb: 60, monthlyUsd: 18, arch: "x86_64" },
      { slug: "s-2vcpu-4gb", vcpus: 2, memoryGb: 4, includedDiskGb: 80, monthlyUsd: 24, arch: "x86_64" },
      { slug: "s-4vcpu-8gb", vcpus: 4, memoryGb: 8, includedDiskGb: 160, monthlyUsd: 48, arch: "x86_64" },
    ],
    volumeUsdPerGbMonth: 0.1,
    // A reserved IP is free while it is assigned to a droplet.
    publicIpv4UsdPerMonth: 0,
    bootDiskGb: 0,
    // Regions that offer droplets, volumes and VPCs to new resources.
    regions: ["ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "sgp1", "syd1", "tor1"],
    defaultRegion: "nyc3",
    priceNote: "DigitalOcean list prices (the same in every region)",
  },
  aws: {
    sizes: [
      { slug: "t3.micro", vcpus: 2, memoryGb: 1, includedDiskGb: 0, monthlyUsd: awsHourly(0.0104), arch: "x86_64" },
      { slug: "t3.small", vcpus: 2, memoryGb: 2, includedDiskGb: 0, monthlyUsd: awsHourly(0.0208), arch: "x86_64" },
      { slug: "t3.medium", vcpus: 2, memoryGb: 4, includedDiskGb: 0, monthlyUsd: awsHourly(0.0416), arch: "x86_64" },
      { slug: "t4g.micro", vcpus: 2, memoryGb: 1, includedDiskGb: 0, monthlyUsd: awsHourly(0.0084), arch: "arm64" },
      { slug: "t4g.small", vcpus: 2, memoryGb: 2, includedDiskGb: 0, monthlyUsd: awsHourly(0.0168), arch: "arm64" },
      { slug: "t4g.medium", vcpus: 2, memoryGb: 4, includedDiskGb: 0, monthlyUsd: awsHourly(0.0336), arch: "arm64" },
    ],
    volumeUsdPerGbMonth: 0.08,
    publicIpv4UsdPerMonth: awsHourly(0.005),
    bootDiskGb: 20,
    regions: [
      "af-south-1",
      "ap-east-1",
      "ap-northeast-1",
      "ap-northeast-2",
      "ap-northeast-3",
      "ap-south-1",
      "ap-south-2",
      "ap-southeast-1",
      "ap-southeast-2",
      "ap-southeast-3",
      "ap-southeast-4",
      "ca-central-1",
      "ca-west-1",
      "eu-central-1",
      "eu-central-2",
      "eu-north-1",
      "eu-south-1",
      "eu-south-2",
      "eu-west-1",
      "eu-west-2",
      "eu-west-3",
      "il-central-1",
      "me-central-1",
      "me-south-1",
      "sa-east-1",
      "us-east-1",
      "us-east-2",
      "us-west-1",
      "us-west-2",
    ],
    defaultRegion: "us-east-1",
    priceNote: "AWS on-demand list prices in us-east-1 (other regions cost more or less)",
  },
};

export function findSize(cloud: CloudName, slug: string): MachineSize | undefined {
  return CATALOG[cloud].sizes.find((s) => s.slug === slug);
}
