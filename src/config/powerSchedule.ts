// The `powerSchedule` key (seed 003: ViewBovis's server is switched on at 8am and off at 10pm, every
// day): the app host is started and stopped on a schedule by the cloud, to save compute billing while
// nobody uses the study. AWS only: a stopped EC2 instance's compute is not billed (its EBS volumes and
// its elastic IP still are); a powered-off DigitalOcean droplet is billed in full, so the key is
// refused there. The schedules themselves are cloud resources (src/clouds/awsPowerSchedule.ts); this
// file holds the key, the cron → EventBridge Scheduler conversion, and the share of hours running.
import { z } from "zod";
import { isCronSpec, parseCron, ParsedField, ScheduleError } from "./schedule";

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
  const text = spec.trim();
  // A clock time or a lone word (daily, monday) is OnCalendar; anything else is read as cron, whose
  // parser says what is wrong with it (a missing field, a value out of range).
  if (!isCronSpec(text) && (text.includes(":") || /^[a-z]+$/i.test(text))) {
    throw new ScheduleError("a power schedule takes cron, not a systemd OnCalendar expression");
  }
  const [minute, hour, dom, month, dow] = parseCron(text);
  const weekdays = [...new Set(dow.values.map((d) => d % 7))].sort((a, b) => a - b);
  const field = (f: ParsedField, min: number, max: number) => (all(f, min, max) ? "*" : ebList(f.values));
  let days: string;
  if (weekdays.length === 7) {
    days = `${field(dom, 1, 31)} ${field(month, 1, 12)} ?`;
  } else if (all(dom, 1, 31)) {
    days = `? ${field(month, 1, 12)} ${ebList(weekdays, (d) => EB_WEEKDAYS[d])}`;
  } else {
    throw new ScheduleError(
      'it restricts both the day of month and the day of week, and EventBridge Scheduler takes only one of them (the other must be ?); keep one, such as "0 8 * * mon-fri" or "0 8 1-15 * *"',
    );
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
  let clash: string | undefined;
  try {
    clash = walkYear(parseCron(p.on), parseCron(p.off)).clash;
  } catch (e) {
    // The field's own check has reported it.
    if (e instanceof ScheduleError) return;
    throw e;
  }
  if (clash)
    ctx.addIssue({
      code: "custom",
      path: ["powerSchedule", "off"],
      message: `on and off both fire at the same minute (the first in ${YEAR}: ${clash}); expected times that differ`,
    });
}

// --- The share of hours the host runs, for the cost table: a minute-by-minute walk through one year. ---

const YEAR = 2026;
const DAY_MS = 86_400_000;

/** The minutes of the day (0-1439) at which a parsed cron spec fires on `day` (UTC midnight). */
function firesOn(f: ParsedField[], day: Date): number[] {
  const [minute, hour, dom, month, dow] = f;
  const matches = dom.values.includes(day.getUTCDate()) && month.values.includes(day.getUTCMonth() + 1) && dow.values.some((d) => d % 7 === day.getUTCDay());
  return matches ? hour.values.flatMap((h) => minute.values.map((m) => h * 60 + m)) : [];
}

/** How much of the time the host runs under `on` / `off`, and how often the two schedules fire. */
export interface PowerUsage {
  /** The share of hours running, 0-1 (time zones and daylight saving shift it by minutes only). */
  readonly runningShare: number;
  /** Start and stop calls a month, on average. */
  readonly invocationsPerMonth: number;
}

/**
 * One year, day by day, in the schedules' own clock: the running share, the calls, and the first
 * minute both fire at. Walked twice: the first pass only settles the state the year starts in.
 */
function walkYear(on: ParsedField[], off: ParsedField[]): PowerUsage & { clash?: string } {
  let running = true;
  let minutesRunning = 0;
  let invocations = 0;
  let clash: string | undefined;
  const days = Math.round((Date.UTC(YEAR + 1, 0, 1) - Date.UTC(YEAR, 0, 1)) / DAY_MS);
  for (let pass = 0; pass < 2; pass++) {
    for (let d = 0; d < days; d++) {
      const day = new Date(Date.UTC(YEAR, 0, 1) + d * DAY_MS);
      const starts = firesOn(on, day);
      const stops = new Set(firesOn(off, day));
      const both = starts.find((m) => stops.has(m));
      if (both !== undefined && clash === undefined) clash = new Date(day.getTime() + both * 60_000).toISOString().slice(0, 16).replace("T", " ");
      const events = [...starts.map((m) => [m, 1] as const), ...[...stops].map((m) => [m, 0] as const)].sort((a, b) => a[0] - b[0]);
      let since = 0;
      for (const [minute, start] of events) {
        if (pass === 1 && running) minutesRunning += minute - since;
        since = minute;
        running = start === 1;
      }
      if (pass === 1) {
        if (running) minutesRunning += 1440 - since;
        invocations += events.length;
      }
    }
  }
  return { runningShare: minutesRunning / (days * 1440), invocationsPerMonth: Math.round(invocations / 12), clash };
}

export function powerUsage(p: Pick<PowerScheduleConfig, "on" | "off">): PowerUsage {
  const { runningShare, invocationsPerMonth } = walkYear(parseCron(p.on), parseCron(p.off));
  return { runningShare, invocationsPerMonth };
}
