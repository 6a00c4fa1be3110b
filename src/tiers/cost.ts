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

/**
 * Everything a host bills: the machine (and boot disk), its data volume, its public IPv4 address, and
 * on AWS the S3 object its files travel in (src/clouds/awsHostFiles.ts: a few KB and a handful of
 * requests, under a cent, listed so the plan shows every resource that bills).
 */
export function hostCost(cloud: CloudName, host: string, size: MachineSize, volumeGb: number): CostItem[] {
  const files: CostItem[] = cloud === "aws" ? [{ item: `${host}: S3 bucket for the host's files (a few KB)`, monthlyUsd: 0 }] : [];
  return [...machineCost(cloud, host, size), volumeCost(cloud, `${host}: data volume`, volumeGb), publicIpCost(cloud, host), ...files];
}

/**
 * A host on a power schedule (studyhost:powerSchedule, AWS): the machine is billed only for the share
 * of hours it runs; its boot disk, data volume and public IPv4 address bill all month, stopped or not.
 * The schedules are EventBridge Scheduler's: assumed free (its free tier is 14 million invocations a
 * month; then $1.00 per million), as two calls a day are.
 */
export function scheduledHostCost(items: readonly CostItem[], host: string, size: MachineSize, runningShare: number, invocationsPerMonth: number): CostItem[] {
  const machine = items.findIndex((i) => i.item.startsWith(`${host}: `) && i.item.endsWith(` ${size.slug}`));
  if (machine < 0) throw new Error(`no machine item for ${host}`);
  const percent = Math.round(runningShare * 100);
  return [
    ...items.slice(0, machine),
    { item: `${items[machine].item}, running ${percent}% of hours (powerSchedule)`, monthlyUsd: cents(size.monthlyUsd * runningShare) },
    ...items.slice(machine + 1),
    { item: `${host}: EventBridge Scheduler, 2 schedules, about ${invocationsPerMonth} calls a month (free tier: 14 million a month)`, monthlyUsd: 0 },
  ];
}

export function summarize(cloud: CloudName, items: readonly CostItem[]): CostSummary {
  return {
    monthlyUsd: cents(items.reduce((sum, i) => sum + i.monthlyUsd, 0)),
    items,
    note: CATALOG[cloud].priceNote,
  };
}
