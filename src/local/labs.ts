// Which labs are in use on this machine, read from the machine itself (network namespaces and
// running systemd-nspawn processes), not from any state folder: two runs with different
// STUDYHOST_LOCAL_DIRs, or a test beside `studyhost local`, still see each other.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

/** The prefix net.sh gives every network namespace of lab K. */
export const labPrefix = (lab: number) => `studyhost-e2e-${lab}-`;

export interface LabContainer {
  /** The systemd-nspawn process. */
  readonly pid: number;
  /** The host's name in the lab (nspawn's -M). */
  readonly name: string;
  /** The host's folder (its root's parent), where boot.ts keeps host.json. */
  readonly dir: string;
}

export interface LabUse {
  readonly namespaces: readonly string[];
  readonly containers: readonly LabContainer[];
}

function cmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** What of lab K exists on this machine now. */
export function labInUse(lab: number): LabUse {
  const prefix = labPrefix(lab);
  const list = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  const namespaces = (list.stdout ?? "")
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter((n) => n.startsWith(prefix));
  const containers: LabContainer[] = [];
  for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    const args = cmdline(pid);
    if (!args[0]?.endsWith("systemd-nspawn")) continue;
    if (!args.some((a) => a.startsWith(`--network-namespace-path=/run/netns/${prefix}`))) continue;
    const at = (flag: string) => args[args.indexOf(flag) + 1] ?? "";
    containers.push({ pid: Number(pid), name: at("-M"), dir: dirname(at("-D")) });
  }
  return { namespaces, containers };
}
