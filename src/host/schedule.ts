// When a scheduled job or a re-sync runs, as a systemd timer. Timers take only OnCalendar, so a cron
// spec (read and checked by src/config/schedule.ts, where the study's schedules are validated) is
// converted here, by a pure function that the tests compare with `systemd-analyze calendar` over many
// iterations.
//
// Cron's meaning is Debian's cron (Vixie cron), cron(5): when both the day of month and the day of
// week are restricted (neither starts with *), a day matching EITHER runs, which one OnCalendar
// expression cannot say: the timer then gets two.
import { parseCron, ParsedField, parseSchedule } from "../config/schedule";

/** systemd's week starts on Monday: cron's 0 (Sunday) comes last. */
const WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The OnCalendar= values (one or two) a timer needs for `schedule`. Throws ScheduleError. */
export function toOnCalendar(schedule: string): string[] {
  const parsed = parseSchedule(schedule);
  return "cron" in parsed ? fieldsToOnCalendar(parsed.cron) : [parsed.onCalendar];
}

/** Convert a cron spec to equivalent OnCalendar expressions (two when cron's day rule is "either"). */
export function cronToOnCalendar(spec: string): string[] {
  return fieldsToOnCalendar(parseCron(spec));
}

function fieldsToOnCalendar([minute, hour, dom, month, dow]: ParsedField[]): string[] {
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
  return runs(values)
    .map(([a, b]) => (b - a >= 2 ? `${two(a)}..${two(b)}` : range(a, b).map(two).join(",")))
    .join(",");
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
    .map(([a, b]) =>
      b - a >= 2
        ? `${WEEKDAY_NAMES[a]}..${WEEKDAY_NAMES[b]}`
        : range(a, b)
            .map((i) => WEEKDAY_NAMES[i])
            .join(","),
    )
    .join(",");
}
