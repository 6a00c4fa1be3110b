// Monthly cost of what a study runs, by item, from the catalog's list prices. Components report their
// own items (a server, its volume, its address); the stack adds them up for every plan.
import { CATALOG, CloudName, MachineSize } from "./catalog";

export interface CostItem {
  /** What is billed, e.g. "study-app: droplet s-1vcpu-1gb". */
  readonly item: string;
  readonly monthlyUsd: number;
}

export interface CostSummary {
  readonly monthlyUsd: number;
  readonly items: readonly CostItem[];
  /** Where the prices hold (region, list prices). */
  readonly note: string;
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

const MACHINE_WORD: Record<CloudName, string> = { digitalocean: "droplet", aws: "EC2 instance" };

/** The machine itself plus, on clouds that bill it apart, its boot disk. */
export function machineCost(cloud: CloudName, host: string, size: MachineSize): CostItem[] {
  const items: CostItem[] = [{ item: `${host}: ${MACHINE_WORD[cloud]} ${size.slug}`, monthlyUsd: size.monthlyUsd }];
  const boot = CATALOG[cloud].bootDiskGb;
  if (boot > 0) items.push(volumeCost(cloud, `${host}: boot disk`, boot));
  return items;
}

export function volumeCost(cloud: CloudName, item: string, sizeGb: number): CostItem {
  return { item: `${item} ${sizeGb} GB`, monthlyUsd: cents(sizeGb * CATALOG[cloud].volumeUsdPerGbMonth) };
}

export function publicIpCost(cloud: CloudName, host: string): CostItem {
  return { item: `${host}: public IPv4 address`, monthlyUsd: CATALOG[cloud].publicIpv4UsdPerMonth };
}

/** Everything a host bills: the machine (and boot disk), its data volume, its public IPv4 address. */
export function hostCost(cloud: CloudName, host: string, size: MachineSize, volumeGb: number): CostItem[] {
  return [...machineCost(cloud, host, size), volumeCost(cloud, `${host}: data volume`, volumeGb), publicIpCost(cloud, host)];
}

export function summarize(cloud: CloudName, items: readonly CostItem[]): CostSummary {
  return {
    monthlyUsd: cents(items.reduce((sum, i) => sum + i.monthlyUsd, 0)),
    items,
    note: CATALOG[cloud].priceNote,
  };
}
