// What a booting host is doing, line by line, for `studyhost local`: cloud-init's stages (from its
// output log) and studyhost-provision's steps (from its own log), read from the host's disk while it
// boots. A step's end is the next step's start; its time is as seen from here (polled twice a second).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const CLOUD_INIT_OUTPUT = "var/log/cloud-init-output.log";
const PROVISION_LOG = "var/log/studyhost-provision.log";

/** The events in a provisioning log so far, in order. */
export type ProvisionEvent =
  | { readonly kind: "step"; readonly step: string }
  | { readonly kind: "failed"; readonly step: string; readonly line: string; readonly command: string }
  | { readonly kind: "skipped"; readonly step: string; readonly reason: string }
  | { readonly kind: "finished" }
  | { readonly kind: "failedSteps"; readonly steps: string };

/** Reads the events of studyhost-provision's log (its `== ...` lines). */
export function provisionEvents(log: string): ProvisionEvent[] {
  const events: ProvisionEvent[] = [];
  for (const line of log.split("\n")) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^== step (\S+) FAILED at line (\d+): (.*)$/))) events.push({ kind: "failed", step: m[1], line: m[2], command: m[3] });
    else if ((m = line.match(/^== step (\S+) SKIPPED: (.*)$/))) events.push({ kind: "skipped", step: m[1], reason: m[2] });
    else if ((m = line.match(/^== step (\S+)$/))) events.push({ kind: "step", step: m[1] });
    else if (/^== studyhost-provision finished/.test(line)) events.push({ kind: "finished" });
    else if ((m = line.match(/^== studyhost-provision FAILED steps: (.*)$/))) events.push({ kind: "failedSteps", steps: m[1] });
  }
  return events;
}

/** The last LINES lines a step wrote to the provisioning log (its own output, not the `==` lines). */
export function stepOutput(log: string, step: string, lines = 15): string[] {
  const all = log.split("\n");
  const start = all.lastIndexOf(`== step ${step}`);
  if (start < 0) return [];
  let end = all.findIndex((l, i) => i > start && /^== (step \S+$|studyhost-provision )/.test(l));
  if (end < 0) end = all.length;
  return all
    .slice(start + 1, end)
    .filter((l) => l && !l.startsWith("== "))
    .slice(-lines);
}

/** cloud-init's stages as its output log names them ("init-local", "init", "modules:config", ...). */
export function cloudInitStages(output: string): string[] {
  return [...output.matchAll(/^Cloud-init v\. \S+ running '([^']+)'/gm)].map((m) => m[1]);
}

function readOr(file: string): string {
  try {
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  } catch {
    return "";
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Follows a booting host whose root is ROOT (a path on this machine) and says what it does through
 * LOG, until stopped. A failed step's last lines are printed with it.
 */
export function followProvisioning(name: string, root: string, log: (line: string) => void, everyMs = 500): { stop: () => void } {
  let stages = 0;
  let events = 0;
  let current: { step: string; since: number } | null = null;
  const failed = new Set<string>();
  const poll = () => {
    for (const stage of cloudInitStages(readOr(join(root, CLOUD_INIT_OUTPUT))).slice(stages)) {
      log(`  ${name}: cloud-init ${stage}`);
      stages++;
    }
    const text = readOr(join(root, PROVISION_LOG));
    const now = Date.now();
    const end = () => {
      if (current && !failed.has(current.step)) log(`  ${name}: ${current.step} done (${seconds(now - current.since)})`);
      current = null;
    };
    for (const e of provisionEvents(text).slice(events)) {
      events++;
      if (e.kind === "step") {
        end();
        log(`  ${name}: ${e.step} ...`);
        current = { step: e.step, since: now };
      } else if (e.kind === "failed") {
        failed.add(e.step);
        log(`  ${name}: ${e.step} FAILED at line ${e.line}: ${e.command}`);
        for (const l of stepOutput(text, e.step)) log(`  ${name}:   | ${l}`);
      } else if (e.kind === "skipped") {
        failed.add(e.step);
        log(`  ${name}: ${e.step} skipped: ${e.reason}`);
      } else if (e.kind === "finished") {
        end();
        log(`  ${name}: provisioned`);
      } else {
        end();
        log(`  ${name}: provisioning failed in: ${e.steps}`);
      }
    }
  };
  const timer = setInterval(poll, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      poll();
    },
  };
}
