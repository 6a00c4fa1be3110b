// The `powerSchedule` key (seed 003: ViewBovis's server is switched on at 8am and off at 10pm, every
// day): the app host is started and stopped on a schedule by the cloud, to save compute billing while
// nobody uses the study. AWS only: a stopped EC2 instance's compute is not billed (its EBS volumes and
// its elastic IP still are); a powered-off DigitalOcean droplet is billed in full, so the key is
// refused there. The schedules themselves are cloud resources (src/clouds/awsPowerSchedule.ts); this
// file holds the key, the cron → EventBridge Scheduler conversion, and the share of hours running.
import { z } from "zod";
import { isCronSpec, parseCron, ParsedField, ScheduleError } from "../host/schedule";

/** What a power schedule's `on` / `off` take, for error messages. */
export const POWER_CRON_EXPECTED = 'expected a cron spec (minute hour day month weekday) such as "0 8 * * mon-fri"';

/** EventBridge's weekday names, indexed by cron's numbering (0 = Sunday; EventBridge's own 1 = SUN). */
const EB_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const two = (n: number) => String(n);

/** Consecutive runs in sorted values, as EventBridge writes them: 1-5, 7, 9 → "1-5,7,9". */
function ebList(values: readonly number[], name: (n: number) => string = two): string {
  const runs: [number, number][] = [];
  for (const v of values) {
    const last = runs[runs.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else runs.push([v, v]);
  }
  return runs.map(([a, b]) => (a === b ? name(a) : b === a + 1 ? `${name(a)},${name(b)}` : `${name(a)}-${name(b)}`)).join(",");
}

const all = (f: ParsedField, min: number, max: number) => f.values.length === max - min + 1;

/**
 * A 5-field cron spec (Debian cron's meaning, as studyhost:jobs reads it) as an EventBridge Scheduler
 * expression: cron(minutes hours day-of-month month day-of-week year), six fields, weekdays 1-7 or
 * SUN-SAT with 1 = Sunday, and exactly one of the two day fields `?`. Throws ScheduleError when the spec
 * cannot be read, or restricts both day fields (EventBridge can say only one of them).
 * @example toEventBridgeCron("0 8 * * mon-fri") === "cron(0 8 ? * MON-FRI *)"
 */
export function toEventBridgeCron(spec: string): string {
  if (!isCronSpec(spec)) throw new ScheduleError("a power schedule takes cron, not a systemd OnCalendar expression");
  const [minute, hour, dom, month, dow] = parseCron(spec);
  const weekdays = [...new Set(dow.values.map((d) => d % 7))].sort((a, b) => a - b);
  const field = (f: ParsedField, min: number, max: number) => (all(f, min, max) ? "*" : ebList(f.values));
  let days: string;
  if (weekdays.length === 7) {
    days = `${field(dom, 1, 31)} ${field(month, 1, 12)} ?`;
  } else if (all(dom, 1, 31)) {
    days = `? ${field(month, 1, 12)} ${ebList(weekdays, (d) => EB_WEEKDAYS[d])}`;
  } else {
    throw new ScheduleError("it restricts both the day of month and the day of week, and EventBridge Scheduler takes only one of them (the other must be ?); keep one, such as \"0 8 * * mon-fri\" or \"0 8 1-15 * *\"");
  }
  return `cron(${field(minute, 0, 59)} ${field(hour, 0, 23)} ${days} *)`;
}

/** True when `name` is a time zone this machine's ICU knows (IANA names such as Europe/London, or UTC). */
function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const powerCron = (what: string, example: string) =>
  z
    .string({ error: POWER_CRON_EXPECTED })
    .superRefine((value, ctx) => {
      try {
        toEventBridgeCron(value);
      } catch (e) {
        if (!(e instanceof ScheduleError)) throw e;
        ctx.addIssue({ code: "custom", message: `${POWER_CRON_EXPECTED} (${e.message})` });
      }
    })
    .describe(`when the app host is ${what}, as a 5-field cron spec in \`timezone\`, such as "${example}"`);

export const PowerScheduleSchema = z
  .object({
    on: powerCron("started", "0 8 * * *"),
    off: powerCron("stopped (a clean shutdown)", "0 22 * * *"),
    timezone: z
      .string({ error: "expected an IANA time zone such as Europe/London or UTC" })
      .refine(isTimeZone, "expected an IANA time zone such as Europe/London or UTC")
      .default("UTC")
      .describe("the time zone `on` and `off` are read in, an IANA name such as Europe/London (default UTC); daylight saving is followed"),
  })
  .strict();

export type PowerScheduleConfig = z.output<typeof PowerScheduleSchema>;

/** The key is for AWS only, and its two times must differ. */
export function checkPowerSchedule(c: { readonly cloud: string; readonly powerSchedule?: PowerScheduleConfig }, ctx: z.RefinementCtx): void {
  const p = c.powerSchedule;
  if (!p) return;
  if (c.cloud === "digitalocean") {
    ctx.addIssue({
      code: "custom",
      path: ["powerSchedule"],
      message:
        "DigitalOcean bills a powered-off droplet in full (its CPU, memory and address stay reserved), so switching it off on a schedule saves nothing; remove studyhost:powerSchedule, or pick a smaller studyhost:sizes.app, or use cloud: aws, where a stopped instance's compute is not billed",
    });
    return;
  }
  const on = parseCron(p.on);
  const off = parseCron(p.off);
  const clash = firstClash(on, off);
  if (clash) ctx.addIssue({ code: "custom", path: ["powerSchedule", "off"], message: `on and off both fire at the same minute (the first in ${YEAR}: ${clash}); expected times that differ` });
}

// --- The share of hours the host runs, for the cost table: a minute-by-minute walk through one year. ---

const YEAR = 2026;

function fires(f: ParsedField[], t: Date): boolean {
  const [minute, hour, dom, month, dow] = f;
  return (
    minute.values.includes(t.getUTCMinutes()) &&
    hour.values.includes(t.getUTCHours()) &&
    dom.values.includes(t.getUTCDate()) &&
    month.values.includes(t.getUTCMonth() + 1) &&
    dow.values.some((d) => d % 7 === t.getUTCDay())
  );
}

function* minutesOfYear(): Generator<Date> {
  for (let t = Date.UTC(YEAR, 0, 1); t < Date.UTC(YEAR + 1, 0, 1); t += 60_000) yield new Date(t);
}

function firstClash(on: ParsedField[], off: ParsedField[]): string | undefined {
  for (const t of minutesOfYear()) if (fires(on, t) && fires(off, t)) return t.toISOString().slice(0, 16).replace("T", " ");
  return undefined;
}

/** How much of the time the host runs under `on` / `off`, and how often the two schedules fire. */
export interface PowerUsage {
  /** The share of hours running, 0-1 (time zones and daylight saving shift it by minutes only). */
  readonly runningShare: number;
  /** Start and stop calls a month, on average. */
  readonly invocationsPerMonth: number;
}

export function powerUsage(p: Pick<PowerScheduleConfig, "on" | "off">): PowerUsage {
  const on = parseCron(p.on);
  const off = parseCron(p.off);
  // Walk the year twice: the first pass only settles the state the year starts in.
  let running = true;
  let minutesRunning = 0;
  let total = 0;
  let invocations = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (const t of minutesOfYear()) {
      const start = fires(on, t);
      const stop = fires(off, t);
      if (start) running = true;
      if (stop) running = false;
      if (pass === 1) {
        invocations += Number(start) + Number(stop);
        total++;
        if (running) minutesRunning++;
      }
    }
  }
  return { runningShare: minutesRunning / total, invocationsPerMonth: Math.round(invocations / 12) };
}
