// The tiers of seed 000_bf5bb7d6266ac38a.txt ("System Requirements") as data: what each host of a
// tier needs at least, where its database lives, and the cheapest size on each cloud that meets it.
// The stacks read this table instead of hard-coding sizes, so a tier is changed here and only here.
import { CATALOG, CloudName, MachineSize } from "./catalog";

export * from "./catalog";

export const TIERS = ["small", "large", "two-server"] as const;
export type TierName = (typeof TIERS)[number];

/** The least a host needs: vCPUs, RAM and storage for its data (our data volume). */
export interface Floor {
  readonly vcpus: number;
  readonly memoryGb: number;
  readonly storageGb: number;
}

export interface Tier {
  readonly name: TierName;
  /** Seed 000's description of who the tier is for. */
  readonly audience: string;
  readonly app: Floor;
  /** "same-host": PostgreSQL (or SQLite) on the app host's data volume; "own-host": a database VM. */
  readonly databasePlacement: "same-host" | "own-host";
  /** The database host's floor, for tiers that have one. */
  readonly database?: Floor;
  /**
   * Database engines the tier accepts. SQLite only where one process serves few users; none (the app's
   * data only in accessory databases) on every tier.
   */
  readonly engines: readonly ("postgres" | "sqlite" | "none")[];
}

export const TIER_TABLE: Record<TierName, Tier> = {
  small: {
    name: "small",
    audience: "fewer than 25 concurrent users",
    app: { vcpus: 1, memoryGb: 1, storageGb: 10 },
    databasePlacement: "same-host",
    engines: ["postgres", "sqlite", "none"],
  },
  large: {
    name: "large",
    audience: "50 or more concurrent users, one server",
    app: { vcpus: 2, memoryGb: 4, storageGb: 50 },
    databasePlacement: "same-host",
    engines: ["postgres", "none"],
  },
  "two-server": {
    name: "two-server",
    audience: "very large studies or institutional requirements: app and its databases on separate servers",
    app: { vcpus: 2, memoryGb: 2, storageGb: 20 },
    databasePlacement: "own-host",
    database: { vcpus: 2, memoryGb: 2, storageGb: 50 },
    engines: ["postgres", "none"],
  },
};

export function meetsFloor(size: MachineSize, floor: Floor): boolean {
  return size.vcpus >= floor.vcpus && size.memoryGb >= floor.memoryGb;
}

/**
 * The cheapest x86_64 size on `cloud` that meets `floor`. x86_64 because the container images the
 * seed systems ship (seeds 002 and 003) are built for amd64; an arm64 size (AWS Graviton) can still
 * be chosen as an explicit size override.
 */
export function cheapestSize(cloud: CloudName, floor: Floor): MachineSize {
  const fits = CATALOG[cloud].sizes.filter((s) => s.arch === "x86_64" && meetsFloor(s, floor)).sort((a, b) => a.monthlyUsd - b.monthlyUsd);
  if (fits.length === 0) throw new Error(`no ${cloud} size meets ${JSON.stringify(floor)}`);
  return fits[0];
}

/** Sizes on `cloud` that meet `floor`, cheapest first: what an error message offers instead. */
export function sizesMeeting(cloud: CloudName, floor: Floor): MachineSize[] {
  return CATALOG[cloud].sizes.filter((s) => meetsFloor(s, floor)).sort((a, b) => a.monthlyUsd - b.monthlyUsd);
}

export function describeFloor(floor: Floor): string {
  return `${floor.vcpus} vCPU, ${floor.memoryGb} GB RAM, ${floor.storageGb} GB storage`;
}
