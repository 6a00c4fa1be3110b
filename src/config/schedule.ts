// When a scheduled job, a re-sync or a power schedule runs, as a study writes it: either a 5-field cron
// spec, which is what the guides and most researchers write ("0 3 * * *", "@daily"), or a systemd
// OnCalendar expression. This file reads and checks a schedule, with the wording of its errors, so the
// config schema can refuse a bad one before anything is built; src/host/schedule.ts renders what was
// read as a timer's OnCalendar= values, and src/config/powerSchedule.ts as EventBridge's cron.
//
// Cron's meaning is Debian's cron (Vixie cron), cron(5): fields are minute, hour, day of month, month,
// day of week (0 and 7 are Sunday; jan-dec and sun-sat may be used, ranges of names too).

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

/** One field of a cron spec, read. */
export interface ParsedField {
  readonly values: number[];
  /** Written starting with * ("*" or "*\/2"): cron then treats the field as unrestricted for its day rule. */
  readonly star: boolean;
}

/** A schedule, read: cron's five fields, or an OnCalendar expression that passed the checks below. */
export type ParsedSchedule = { readonly cron: ParsedField[] } | { readonly onCalendar: string };

/** True when `schedule` is written as cron (a macro, or five fields with no clock time in them). */
export function isCronSpec(schedule: string): boolean {
  const text = schedule.trim();
  return text.startsWith("@") || (text.split(/\s+/).length === 5 && !text.includes(":"));
}

/**
 * Read `schedule` as cron when it is written as cron, else as an OnCalendar expression, which is
 * checked for what would otherwise fail only on the host (systemd itself reads it there). Throws
 * ScheduleError.
 */
export function parseSchedule(schedule: string): ParsedSchedule {
  if (isCronSpec(schedule)) return { cron: parseCron(schedule) };
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
  return { onCalendar: text };
}

/** Why `schedule` cannot be used, or undefined. For the config schema's one-line errors. */
export function scheduleProblem(schedule: string): string | undefined {
  try {
    parseSchedule(schedule);
    return undefined;
  } catch (e) {
    if (e instanceof ScheduleError) return `${SCHEDULE_EXPECTED} (${e.message})`;
    throw e;
  }
}

/**
 * The five fields of a cron spec (a macro expanded): minute, hour, day of month, month, day of week
 * (0-7, 7 and 0 both Sunday), each as its sorted values. Throws ScheduleError. Shared by the timers
 * (src/host/schedule.ts) and the power schedule, which converts cron for EventBridge Scheduler.
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
      if (b === undefined && m[2] !== undefined)
        throw new ScheduleError(`the ${field.name} field's ${item} is ambiguous; write a range with a step, such as ${a}-${field.max}/${m[2]}`);
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
