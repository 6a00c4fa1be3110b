// The backup retention rule, run for real (issue 3): the rendered PRUNE_PY, executed by python3 after
// every simulated daily backup for 400 days, keeps exactly the newest backup of each of the 7 most
// recent days that have a backup, of each of the 4 most recent ISO weeks and of each of the 6 most
// recent months that have one, plus the newest backup overall (the defaults, --daily 7 --weekly 4
// --monthly 6). The expected set is derived here from that definition, in TypeScript, without the
// script's logic: weeks are named by their Monday, not by Python's isocalendar. It is compared after
// every simulated day, and spelled out by hand at the end. Also: other counts (3/2/12) with pruning
// that runs only now and then (missed timer runs converge to the same set), --dry-run deleting
// nothing while naming exactly what a real run deletes, and files that are not backups left alone.
// Needs /usr/bin/python3 (the script's interpreter on the hosts; Debian's python3 package).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PRUNE_PY } from "../../src/host";

// About 480 python3 runs in all, some 35 ms each from Node: about 18 s here; room for a slow CI machine.
jest.setTimeout(90_000);

const DAY_MS = 86_400_000;
/** Day 1's regular backup (a Wednesday); every later regular backup is at 03:15 UTC too. */
const START = Date.UTC(2025, 0, 1, 3, 15, 0);
/** The machine is off for 10 days (day 151 to day 160): this spans a whole ISO week without a backup. */
const OUTAGE = { first: 151, last: 160 };

let scratch = "";
let prune = "";

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "studyhost-retention-"));
  prune = join(scratch, "prune_backups.py");
  writeFileSync(prune, PRUNE_PY, { mode: 0o755 });
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** `study-20250101T031500Z.dump`, the name BACKUP_SH gives a dump made at that instant. */
function backupName(at: number): string {
  const iso = new Date(at).toISOString(); // 2025-01-01T03:15:00.000Z
  return `study-${iso.slice(0, 10).replace(/-/g, "")}T${iso.slice(11, 19).replace(/:/g, "")}Z.dump`;
}

/**
 * The backups made on simulated day `day` (1-based): the nightly one; on every third day a second,
 * later one (so "newest of the day" matters); on each month's last day one at 23:59:59, the last
 * possible instant of the day, week (when a Sunday) and month; none during the outage.
 */
function backupsOn(day: number): number[] {
  if (day >= OUTAGE.first && day <= OUTAGE.last) return [];
  const nightly = START + (day - 1) * DAY_MS;
  const midnight = nightly - (3 * 3600 + 15 * 60) * 1000;
  const stamps = [nightly];
  if (day % 3 === 0) stamps.push(midnight + (15 * 3600 + 40 * 60) * 1000);
  if (new Date(midnight + DAY_MS).getUTCDate() === 1) stamps.push(midnight + DAY_MS - 1000);
  return stamps;
}

// The periods, as ISO date strings that sort in time order: the day, the Monday that starts the ISO
// week (ISO weeks run Monday to Sunday, so weeks across a new year need no week-year arithmetic), the month.
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const mondayOf = (t: number) => {
  const d = new Date(t);
  const sinceMonday = (d.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - sinceMonday)).toISOString().slice(0, 10);
};
const monthOf = (t: number) => new Date(t).toISOString().slice(0, 7);

/** The definition: for each kind of period, the newest backup of each of the `count` most recent periods that have one; and the newest overall. */
function expectedKept(stamps: number[], counts: { daily: number; weekly: number; monthly: number }): string[] {
  const keep = new Set<number>();
  for (const [count, period] of [
    [counts.daily, dayOf],
    [counts.weekly, mondayOf],
    [counts.monthly, monthOf],
  ] as const) {
    const newest = new Map<string, number>();
    for (const t of stamps) newest.set(period(t), Math.max(t, newest.get(period(t)) ?? -Infinity));
    const recent = [...newest.keys()].sort().reverse().slice(0, count);
    for (const p of recent) keep.add(newest.get(p)!);
  }
  if (stamps.length > 0) keep.add(Math.max(...stamps));
  return [...keep].map(backupName).sort();
}

const listBackups = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith(".dump"))
    .sort();

function runPrune(dir: string, counts: { daily: number; weekly: number; monthly: number }, dryRun = false) {
  const args = [dir, "--daily", String(counts.daily), "--weekly", String(counts.weekly), "--monthly", String(counts.monthly), ...(dryRun ? ["--dry-run"] : [])];
  // Executed as BACKUP_SH executes it: the file itself, through its #!/usr/bin/python3 line.
  const r = spawnSync(prune, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`prune failed (${r.status ?? r.signal}): ${r.stderr}${r.error ?? ""}`);
  return r.stdout;
}

/**
 * Make the backups of days 1..`days`, pruning after each day for which `pruneOn(day)` is true; at
 * each pruning compare the directory with the definition applied to every backup ever made. (A backup
 * deleted once can never be due again: newer ones only push it further out; so the set a daily pruner
 * leaves is the definition over the whole history, whatever pruning happened before.)
 */
function simulate(dir: string, days: number, counts: { daily: number; weekly: number; monthly: number }, pruneOn: (day: number) => boolean) {
  const made: number[] = [];
  const kept = new Map<number, string[]>();
  const due = new Map<number, string[]>();
  let firstMismatch: { day: number; missing: string[]; extra: string[] } | undefined;
  for (let day = 1; day <= days; day++) {
    for (const t of backupsOn(day)) {
      writeFileSync(join(dir, backupName(t)), `dump made at ${new Date(t).toISOString()}\n`);
      made.push(t);
    }
    if (!pruneOn(day)) continue;
    runPrune(dir, counts);
    const actual = listBackups(dir);
    const expected = expectedKept(made, counts);
    kept.set(day, actual);
    due.set(day, expected);
    if (!firstMismatch && actual.join() !== expected.join()) {
      firstMismatch = { day, missing: expected.filter((n) => !actual.includes(n)), extra: actual.filter((n) => !expected.includes(n)) };
    }
  }
  return { made, kept, due, firstMismatch };
}

const DEFAULTS = { daily: 7, weekly: 4, monthly: 6 };

test("400 days of nightly backups, pruned after each one with the defaults, keep exactly the rule's set", () => {
  const dir = join(scratch, "defaults");
  mkdirSync(dir);
  // Not backups: a dump still being written, and a note. The pruner must not touch them.
  writeFileSync(join(dir, ".partial-20250101T031500Z"), "");
  writeFileSync(join(dir, "README.txt"), "kept\n");

  const { kept, due, firstMismatch } = simulate(dir, 400, DEFAULTS, () => true);

  expect(firstMismatch).toBeUndefined();
  // Every day was compared above; these checkpoints say so by name, with the day in any failure.
  for (const day of [1, 8, 35, 161, 200, 400]) expect({ day, kept: kept.get(day) }).toEqual({ day, kept: due.get(day) });

  // The same checkpoints worked out by hand from the calendar, so the derivation above is checked too.
  // (Day n is 1 Jan 2025 + n - 1; days divisible by 3 also have a 15:40 backup; months' last days a 23:59:59 one.)
  // Day 1: the only backup there is.
  expect(kept.get(1)).toEqual(["study-20250101T031500Z.dump"]);
  // Day 8 (Wed 8 Jan): daily 2-8 Jan. 1 Jan is no period's newest: its ISO week (Mon 30 Dec - Sun 5 Jan)
  // has 5 Jan, January has 8 Jan.
  expect(kept.get(8)).toEqual([
    "study-20250102T031500Z.dump",
    "study-20250103T154000Z.dump",
    "study-20250104T031500Z.dump",
    "study-20250105T031500Z.dump", // also the week of 30 Dec
    "study-20250106T154000Z.dump",
    "study-20250107T031500Z.dump",
    "study-20250108T031500Z.dump", // also the week of 6 Jan, January, the newest
  ]);
  // Day 161 (Tue 10 June), the first backup after the outage (31 May - 9 June): the 7 most recent
  // days with a backup reach back over the gap to 25 May, and the empty week of 2 June is not one of
  // the 4 weeks, which are those of 9 June, 26 May, 19 May and 12 May.
  expect(kept.get(161)).toEqual([
    "study-20250131T235959Z.dump", // January
    "study-20250228T235959Z.dump", // February
    "study-20250331T235959Z.dump", // March
    "study-20250430T235959Z.dump", // April
    "study-20250518T154000Z.dump", // the week of 12 May (Sun 18 May, day 138)
    "study-20250525T031500Z.dump", // daily, and the week of 19 May
    "study-20250526T031500Z.dump", // daily
    "study-20250527T154000Z.dump", // daily
    "study-20250528T031500Z.dump", // daily
    "study-20250529T031500Z.dump", // daily
    "study-20250530T154000Z.dump", // daily, the week of 26 May, and May (no backup on 31 May)
    "study-20250610T031500Z.dump", // daily, the week of 9 June, June, the newest
  ]);
  // Day 400 (Wed 4 Feb 2026): daily 29 Jan - 4 Feb; the weeks of 2 Feb, 26 Jan, 19 Jan and 12 Jan
  // (ISO weeks, so the week of 29 Dec 2025 counts as 2026's first, not as part of two years);
  // the months February 2026 back to September 2025.
  expect(kept.get(400)).toEqual([
    "study-20250930T235959Z.dump", // September
    "study-20251031T235959Z.dump", // October
    "study-20251130T235959Z.dump", // November
    "study-20251231T235959Z.dump", // December
    "study-20260118T031500Z.dump", // the week of 12 Jan
    "study-20260125T154000Z.dump", // the week of 19 Jan (day 390)
    "study-20260129T031500Z.dump", // daily
    "study-20260130T031500Z.dump", // daily
    "study-20260131T235959Z.dump", // daily (the newest of three that day), and January
    "study-20260201T031500Z.dump", // daily, and the week of 26 Jan
    "study-20260202T031500Z.dump", // daily
    "study-20260203T154000Z.dump", // daily
    "study-20260204T031500Z.dump", // daily, the week of 2 Feb, February, the newest
  ]);
  expect(readdirSync(dir)).toEqual(expect.arrayContaining([".partial-20250101T031500Z", "README.txt"]));
});

test("other counts (3 days, 2 weeks, 12 months), pruning only every fifth day, keep exactly the rule's set", () => {
  const dir = join(scratch, "other-counts");
  mkdirSync(dir);
  const counts = { daily: 3, weekly: 2, monthly: 12 };
  // Missed timer runs (every fifth day, and the last) must converge to the same set as daily runs.
  const { made, kept, firstMismatch } = simulate(dir, 400, counts, (day) => day % 5 === 0 || day === 400);
  expect(firstMismatch).toBeUndefined();
  expect(kept.get(400)).toEqual(expectedKept(made, counts));
  // 12 months back from February 2026 reaches March 2025: January and February 2025 are gone.
  expect(kept.get(400)!.filter((n) => n.startsWith("study-2025"))[0]).toBe("study-20250331T235959Z.dump");
});

test("--dry-run deletes nothing and names exactly the backups a real run then deletes", () => {
  const dir = join(scratch, "dry-run");
  mkdirSync(dir);
  const made: number[] = [];
  for (let day = 1; day <= 400; day++) {
    for (const t of backupsOn(day)) {
      writeFileSync(join(dir, backupName(t)), "");
      made.push(t);
    }
  }
  const all = listBackups(dir);
  const expected = expectedKept(made, DEFAULTS);
  const doomed = all.filter((n) => !expected.includes(n));
  expect(doomed.length).toBeGreaterThan(300);

  const dry = runPrune(dir, DEFAULTS, true);
  expect(listBackups(dir)).toEqual(all);
  expect(
    dry
      .trim()
      .split("\n")
      .map((l) => l.replace(/^pruning /, ""))
      .sort(),
  ).toEqual(doomed);

  const real = runPrune(dir, DEFAULTS);
  expect(real).toBe(dry);
  expect(listBackups(dir)).toEqual(expected);
  // And a second run has nothing left to do.
  expect(runPrune(dir, DEFAULTS)).toBe("");
});
