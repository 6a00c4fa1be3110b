// When a scheduled job or a re-sync runs: either a 5-field cron spec, which is what the guides and
// most researchers write ("0 3 * * *", "@daily"), or a systemd OnCalendar expression. Timers take only
// OnCalendar, so a cron spec is converted here, by a pure function that the tests compare with
// `systemd-analyze calendar` over many iterations.
//
// Cron's meaning is Debian's cron (Vixie cron), cron(5): fields are minute, hour, day of month, month,
// day of week (0 and 7 are Sunday; jan-dec and sun-sat may be used, ranges of names too); when both the
// day of month and the day of week are restricted (neither starts with *), a day matching EITHER runs,
// which one OnCalendar expression cannot say: the timer then gets two.

/** What a schedule means to a reader, for error messages. */
export const SCHEDULE_EXPECTED = 'expected a cron spec (minute hour day month weekday) such as "0 3 * * *", or a systemd OnCalendar expression such as daily';

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** systemd's shorthands (systemd.time(7)), accepted as they are. */
const CALENDAR_SHORTHANDS = ["minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly", "semiannually"];

/** systemd's week starts on Monday: cron's 0 (Sunday) comes last. */
const WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
/** A weekday alone is an OnCalendar expression too (that day at midnight). */
const WEEKDAY_WORDS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].flatMap((d) => [d, d.slice(0, 3)]);

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  // 7 is Sunday as well as 0.
  { name: "day of week", min: 0, max: 7, names: WEEKDAYS },
];

/** A schedule that cannot be read; the message says why, after SCHEDULE_EXPECTED. */
export class ScheduleError extends Error {}

/** True when `schedule` is written as cron (a macro, or five fields with no clock time in them). */
export function isCronSpec(schedule: string): boolean {
  const text = schedule.trim();
  return text.startsWith("@") || (text.split(/\s+/).length === 5 && !text.includes(":"));
}

/** The OnCalendar= values (one or two) a timer needs for `schedule`. Throws ScheduleError. */
export function toOnCalendar(schedule: string): string[] {
  if (isCronSpec(schedule)) return cronToOnCalendar(schedule);
  const text = schedule.trim();
  if (!/^[A-Za-z0-9*:\/ ,.~+_-]+$/.test(text)) throw new ScheduleError("it holds characters neither cron nor OnCalendar uses");
  // Five-field cron with a field missing or extra would otherwise pass as an OnCalendar expression,
  // and fail only on the host: catch it here.
  const words = text.split(/\s+/);
  if (words.length > 1 && words.length < 8 && words.every((w) => /^[0-9*,\/-]+$/.test(w))) {
    throw new ScheduleError(`a cron spec has 5 fields, this has ${words.length}`);
  }
  const word = text.toLowerCase();
  if (words.length === 1 && /^[a-z]+$/.test(word) && !CALENDAR_SHORTHANDS.includes(word) && !WEEKDAY_WORDS.includes(word)) {
    throw new ScheduleError(`${text} is not one of systemd's shorthands (${CALENDAR_SHORTHANDS.join(", ")})`);
  }
  return [text];
}

/** Why `schedule` cannot be used, or undefined. For the config schema's one-line errors. */
export function scheduleProblem(schedule: string): string | undefined {
  try {
    toOnCalendar(schedule);
    return undefined;
  } catch (e) {
    if (e instanceof ScheduleError) return `${SCHEDULE_EXPECTED} (${e.message})`;
    throw e;
  }
}

/**
 * The five fields of a cron spec (a macro expanded): minute, hour, day of month, month, day of week
 * (0-7, 7 and 0 both Sunday), each as its sorted values. Throws ScheduleError. Shared with the power
 * schedule, which converts cron for EventBridge Scheduler.
 */
export function parseCron(spec: string): ParsedField[] {
  const text = spec.trim();
  const expanded = text.startsWith("@") ? MACROS[text.toLowerCase()] : text;
  if (!expanded) {
    if (text === "@reboot") throw new ScheduleError("@reboot is not a schedule; what must run at every boot belongs in a service");
    throw new ScheduleError(`${text} is none of cron's macros ${Object.keys(MACROS).join(", ")}`);
  }
  const words = expanded.split(/\s+/);
  if (words.length !== 5) throw new ScheduleError(`a cron spec has 5 fields, this has ${words.length}`);
  return words.map((w, i) => parseField(w, FIELDS[i]));
}

/** Convert a cron spec to equivalent OnCalendar expressions (two when cron's day rule is "either"). */
export function cronToOnCalendar(spec: string): string[] {
  const [minute, hour, dom, month, dow] = parseCron(spec);
  const weekdays = new Set(dow.values.map((d) => d % 7));
  const time = `${calendarValues(hour.values, 0, 23)}:${calendarValues(minute.values, 0, 59)}:00`;
  const date = (days: number[]) => `*-${calendarValues(month.values, 1, 12)}-${calendarValues(days, 1, 31)}`;
  const weekdayPrefix = weekdayList(weekdays);
  if (!dom.star && !dow.star) {
    // cron(5): "if both fields are restricted, the command runs when either field matches".
    return [`${date(dom.values)} ${time}`, `${weekdayPrefix} ${date(range(1, 31))} ${time}`];
  }
  return [`${weekdayPrefix ? `${weekdayPrefix} ` : ""}${date(dom.values)} ${time}`];
}

export interface ParsedField {
  readonly values: number[];
  /** Written starting with * ("*" or "*\/2"): cron then treats the field as unrestricted for its day rule. */
  readonly star: boolean;
}

function parseField(text: string, field: Field): ParsedField {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    const m = /^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/([0-9]+))?$/i.exec(item);
    if (!m) throw new ScheduleError(`the ${field.name} field "${text}" is not a number, range, list or step`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw new ScheduleError(`the ${field.name} field has a step of 0`);
    let low = field.min;
    let high = field.name === "day of week" ? 6 : field.max;
    if (m[1] !== "*") {
      const [a, b] = m[1].split("-");
      low = fieldNumber(a, field);
      // "5/10" means 5 alone in some crons and 5-59/10 in others: ask for what is meant.
      if (b === undefined && m[2] !== undefined) throw new ScheduleError(`the ${field.name} field's ${item} is ambiguous; write a range with a step, such as ${a}-${field.max}/${m[2]}`);
      high = b === undefined ? low : fieldNumber(b, field);
      if (high < low) throw new ScheduleError(`the ${field.name} range ${m[1]} runs backwards`);
    }
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return { values: [...values].sort((x, y) => x - y), star: text.startsWith("*") };
}

function fieldNumber(token: string, field: Field): number {
  const named = field.names?.indexOf(token.toLowerCase()) ?? -1;
  if (named >= 0) return named + (field.name === "month" ? 1 : 0);
  if (!/^[0-9]+$/.test(token)) {
    throw new ScheduleError(`the ${field.name} field's ${token} is not a number${field.names ? ` or one of ${field.names.join(", ")}` : ""}`);
  }
  const n = Number(token);
  if (n < field.min || n > field.max) throw new ScheduleError(`the ${field.name} ${n} is outside ${field.min}-${field.max}`);
  return n;
}

const range = (low: number, high: number) => Array.from({ length: high - low + 1 }, (_, i) => low + i);
const two = (n: number) => String(n).padStart(2, "0");

/**
 * One OnCalendar component for a sorted set of values: * for all of them, start/step for a repetition
 * that runs to the field's end (0/15), else a list of values and a..b runs. Always exact.
 */
export function calendarValues(values: readonly number[], min: number, max: number): string {
  if (values.length === max - min + 1) return "*";
  if (values.length >= 3) {
    const step = values[1] - values[0];
    const progression = values.every((v, i) => v === values[0] + i * step);
    if (progression && step > 1 && values[values.length - 1] + step > max) return `${two(values[0])}/${step}`;
  }
  return runs(values).map(([a, b]) => (b - a >= 2 ? `${two(a)}..${two(b)}` : range(a, b).map(two).join(","))).join(",");
}

/** Consecutive runs in sorted values: [1,2,3,5] -> [[1,3],[5,5]]. */
function runs(values: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const v of values) {
    const last = out[out.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

/** The weekday component ("" when every day), from cron's numbering (0 = Sunday). */
function weekdayList(cronDays: ReadonlySet<number>): string {
  if (cronDays.size === 7) return "";
  const mondayFirst = [...cronDays].map((d) => (d + 6) % 7).sort((a, b) => a - b);
  return runs(mondayFirst)
    .map(([a, b]) => (b - a >= 2 ? `${WEEKDAY_NAMES[a]}..${WEEKDAY_NAMES[b]}` : range(a, b).map((i) => WEEKDAY_NAMES[i]).join(",")))
    .join(",");
}
