// Scheduled jobs and boot-time fetches (studyhost:jobs, studyhost:fetch), checked with the real programs:
// cron specs against systemd's own calendar arithmetic, with Debian's croniter as the independent
// reading of cron; the rendered units with systemd-analyze verify, the scripts with shellcheck, the
// document with cloud-init's schema; and the rendered scripts run for real (the job runner and its log
// under logrotate, a container job's docker command line, the fetch with rclone). What is rendered, bad
// input and a failing job: test/jobs.test.ts.
// Needs Debian's systemd, python3 with python3-croniter, shellcheck, cloud-init, logrotate and rclone.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cronToOnCalendar, toOnCalendar } from "../../src/host";
import { copyOut, readRendered, removeRendered, renderHosts, RenderedHost } from "../support/render";
import { runCaptured } from "../support/processes";
import { CONTAINER_COMMAND, jobStacks } from "../support/stacks/jobs";
import { verifyUnits } from "../support/verify";

const run = runCaptured;

describe("a cron spec becomes OnCalendar expressions that fire when cron would", () => {
  // A Friday late in a non-leap February: month, week and year ends come soon.
  const BASE = "2026-02-27 10:07:00";
  const ITERATIONS = 40;

  /** The next `n` times after BASE that systemd computes for the timer's OnCalendar values (UTC). */
  function systemdTimes(expressions: string[], n: number): string[] {
    const r = run("systemd-analyze", ["calendar", `--base-time=${BASE} UTC`, `--iterations=${n}`, ...expressions], { env: { ...process.env, TZ: "UTC" } });
    expect([expressions, r.status, r.stderr]).toEqual([expressions, 0, ""]);
    const times = [...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => m[1]);
    expect(times.length).toBe(n * expressions.length);
    // A timer with two OnCalendar= lines fires at the union of their times.
    return [...new Set(times)].sort().slice(0, n);
  }

  /** The next `n` times after BASE that cron runs `specs`, as Debian's python3-croniter reads them. */
  function cronTimes(specs: string[], n: number): Record<string, string[]> {
    const script = `
import datetime, json, sys
from croniter import croniter
base = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%d %H:%M:%S")
out = {}
for spec in sys.argv[3:]:
    it = croniter(spec, base)
    out[spec] = [it.get_next(datetime.datetime).strftime("%Y-%m-%d %H:%M:%S") for _ in range(int(sys.argv[2]))]
print(json.dumps(out))
`;
    // Debian's interpreter, where python3-croniter is installed (a pyenv python3 may come first on PATH).
    const r = run("/usr/bin/python3", ["-c", script, BASE, String(n), ...specs]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    return JSON.parse(r.stdout);
  }

  const SPECS = [
    "0 3 * * *",
    "*/15 * * * *",
    "30 2 * * 1-5",
    "*/7 * * * *",
    "15,45 8-18/2 * * *",
    "1-5/2 * * * *",
    "5 4 * * sun",
    "0 22 * * 0,7",
    "0 0 * * 5-7",
    "0 9 * jan-mar mon-fri",
    "0 0 31 * *",
    "0 6 1 */3 *",
    // Both day fields restricted: cron runs on a day matching either (two OnCalendar lines).
    "0 0 1,15 * mon",
    "30 12 13 * fri",
    "@daily",
    "@hourly",
    "@weekly",
    "@monthly",
    "@yearly",
  ];

  test.each(SPECS)("%s", (spec) => {
    const expected = cronTimes([spec], ITERATIONS)[spec];
    expect(expected).toHaveLength(ITERATIONS);
    expect(systemdTimes(cronToOnCalendar(spec), ITERATIONS)).toEqual(expected);
  });

  test("a leap day only: both agree across years", () => {
    const spec = "0 12 29 2 *";
    expect(systemdTimes(cronToOnCalendar(spec), 4)).toEqual(cronTimes([spec], 4)[spec]);
  });

  test("a day field written with * counts as unrestricted, as Debian's cron has it (croniter differs here)", () => {
    // Vixie cron (Debian's) reads "*/10" in the day of month as unrestricted, so the day rule is
    // "both": Mondays that fall on the 1st, 11th, 21st or 31st. croniter would say "either".
    const expressions = cronToOnCalendar("0 0 */10 * 1");
    expect(expressions).toHaveLength(1);
    const times = systemdTimes(expressions, 10);
    for (const t of times) {
      const day = new Date(`${t.replace(" ", "T")}Z`);
      expect([t, day.getUTCDay(), [1, 11, 21, 31].includes(day.getUTCDate())]).toEqual([t, 1, true]);
    }
  });

  test("an OnCalendar expression passes through unchanged and systemd reads it", () => {
    for (const expression of ["daily", "*-*-* 03:00:00", "Mon..Fri *-*-* 02:30:00", "hourly", "Sun"]) {
      expect(toOnCalendar(expression)).toEqual([expression]);
      expect(run("systemd-analyze", ["calendar", expression]).status).toBe(0);
    }
  });
});

let hosts: RenderedHost[];
let scratch: string;
beforeAll(async () => {
  hosts = (await renderHosts(jobStacks())).filter((h) => h.host.endsWith("-app"));
  scratch = mkdtempSync(join(tmpdir(), "studyhost-jobs-"));
}, 60000);
afterAll(() => {
  removeRendered(hosts);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const host = (label: string) => hosts.find((h) => h.label.startsWith(`${label}/`))!;
const read = readRendered;
const ours = (unit: string) => /^studyhost-(job|fetch)-/.test(unit);

describe("the rendered jobs and fetches", () => {
  test("every job and fetch unit passes systemd-analyze verify with no output", () => {
    const expected = {
      python: [
        "studyhost-fetch-exports.service",
        "studyhost-fetch-exports.timer",
        "studyhost-job-fails_halfway.service",
        "studyhost-job-fails_halfway.timer",
        "studyhost-job-report.service",
        "studyhost-job-report.timer",
      ],
      container: ["studyhost-fetch-production.service", "studyhost-job-analytics.service", "studyhost-job-analytics.timer"],
    };
    for (const [label, units] of Object.entries(expected)) {
      const verdicts = verifyUnits(host(label), ours);
      expect(verdicts.map((v) => v.unit).sort()).toEqual(units);
      for (const v of verdicts) expect([label, v.unit, v.output]).toEqual([label, v.unit, ""]);
    }
  });

  test("systemd-analyze verify does speak up on a broken job unit (the check above can fail)", () => {
    const h = host("python");
    const unit = join(h.root, "etc/systemd/system/studyhost-job-report.service");
    const good = readFileSync(unit, "utf8");
    try {
      writeFileSync(unit, good.replace("TimeoutStartSec=5min", "TimeoutStartSec=five minutes"));
      expect(verifyUnits(h, (u) => u === "studyhost-job-report.service")[0].output).toMatch(/TimeoutStartSec/);
    } finally {
      writeFileSync(unit, good);
    }
  });

  test("every script passes shellcheck and the document passes cloud-init's schema", () => {
    for (const h of hosts) {
      const scripts = [
        "usr/local/lib/studyhost/run-job",
        "usr/local/sbin/studyhost-fetch",
        "usr/local/sbin/studyhost-provision",
        ...readdirSync(join(h.root, "usr/local/lib/studyhost/jobs")).map((f) => `usr/local/lib/studyhost/jobs/${f}`),
      ];
      for (const s of scripts) expect([h.label, s, run("shellcheck", [join(h.root, s)]).output]).toEqual([h.label, s, ""]);
      const schema = run("cloud-init", ["schema", "--config-file", join(h.dir, "user-data")]);
      expect([h.label, schema.status, schema.output]).toEqual([h.label, 0, `Valid cloud-config: ${join(h.dir, "user-data")}`]);
    }
  });
});

describe("the rendered scripts, run for real", () => {
  test("a job's output reaches the journal (stdout) and its log, runs after runs; the log is rotated with the app's", () => {
    const h = host("python");
    const runJob = copyOut(h, "usr/local/lib/studyhost/run-job", scratch, "run-job");
    const script = copyOut(h, "usr/local/lib/studyhost/jobs/report.sh", scratch, "report.sh");
    const logs = join(scratch, "log-study");
    mkdirSync(logs, { recursive: true });
    const log = join(logs, "report.log");
    const env = { ...process.env, STUDY_LABEL: "pilot" };
    for (let i = 0; i < 2; i++) {
      const r = run(runJob, [log, script], { env, cwd: scratch });
      expect([r.status, r.stderr]).toEqual([0, ""]);
      expect(r.stdout).toContain(`report for pilot in ${scratch}\nargs: ['one', 'two words']\n`);
      expect(r.stdout).toMatch(/finished with exit status 0\n$/);
    }
    const text = readFileSync(log, "utf8");
    expect(text.match(/report for pilot/g)).toHaveLength(2);
    expect(text.match(/ started\n/g)).toHaveLength(2);

    // The app's own logrotate rule, pointed at this folder, rotates the job's log.
    const rule = read(h, "etc/logrotate.d/study").replace("/var/log/study/", `${logs}/`);
    writeFileSync(join(scratch, "logrotate.conf"), rule);
    const rotated = run("logrotate", ["--force", "--state", join(scratch, "logrotate.state"), join(scratch, "logrotate.conf")]);
    expect([rotated.status, rotated.output]).toEqual([0, ""]);
    expect(readFileSync(`${log}.1`, "utf8")).toBe(text);
    expect(readFileSync(log, "utf8")).toBe("");
  });

  test("a container job is one docker run of the app's image, as the app's user, with the command intact", () => {
    const h = host("container");
    // A stand-in docker (no Docker daemon here) that records its arguments; the script's absolute
    // path to docker is pointed at it, nothing else changes.
    const stub = join(scratch, "docker-stub");
    writeFileSync(stub, `#!/usr/bin/python3\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\nsys.exit(7)\n`);
    chmodSync(stub, 0o755);
    const script = copyOut(h, "usr/local/lib/studyhost/jobs/analytics.sh", scratch, "analytics.sh", (t) => t.replace("/usr/bin/docker ", `${stub} `));
    const r = run("bash", [script], { env: { ...process.env, APP_UID: "998", APP_GID: "997" } });
    // docker's exit status (the command's, in the container) is the job's.
    expect(r.status).toBe(7);
    const argv: string[] = JSON.parse(r.stdout);
    expect(argv).toEqual([
      "run",
      "--rm",
      "--name",
      "studyhost-job-analytics",
      "--user",
      "998:997",
      "--network",
      "host",
      "--init",
      "--cap-drop",
      "ALL",
      "--log-driver",
      "none",
      "--security-opt",
      "no-new-privileges",
      "--env-file",
      "/etc/viewer/docker.env",
      "-v",
      "/var/lib/studyhost/viewer/data:/data:ro",
      "-v",
      "/var/log/viewer:/var/log/viewer",
      "--env",
      "LOG_DIR=/var/log/viewer",
      "--entrypoint",
      "/bin/sh",
      "ghcr.io/example/viewer:1.2",
      "-c",
      CONTAINER_COMMAND,
    ]);
    // The same options as the app's own container.
    const appRun = /^ExecStart=(.*)$/m.exec(read(h, "etc/systemd/system/viewer.service"))![1];
    expect(appRun).toContain(
      "--network host --init --cap-drop ALL --log-driver none --security-opt no-new-privileges --env-file /etc/viewer/docker.env -v /var/lib/studyhost/viewer/data:/data:ro -v /var/log/viewer:/var/log/viewer",
    );
    // Without the user ids (docker-user.env not yet written) it refuses rather than run as root.
    const unset = run("bash", [script], { env: { PATH: process.env.PATH } });
    expect(unset.status).not.toBe(0);
    expect(unset.stderr).toContain("APP_UID");
  });

  describe("the fetch script with rclone", () => {
    // There is no S3 server here: rclone's local-filesystem backend stands in for the bucket (the
    // remote `source` is redefined as type local; the rendered S3 settings are checked separately).
    // Everything else is the rendered script as the unit runs it: listing, sync, deletions, refusals.
    let bucket: string;
    let dest: string;
    let fetchScript: string;
    const fetchEnv = () => ({
      PATH: process.env.PATH,
      HOME: scratch,
      FETCH_NAME: "exports",
      FETCH_SOURCE: `source:${bucket}/latest`,
      FETCH_DEST: dest,
      RCLONE_CONFIG_SOURCE_TYPE: "local",
    });
    const put = (path: string, content: string) => {
      mkdirSync(dirname(join(bucket, path)), { recursive: true });
      writeFileSync(join(bucket, path), content);
    };
    beforeAll(() => {
      bucket = join(scratch, "bucket");
      dest = join(scratch, "state/exports");
      fetchScript = copyOut(host("python"), "usr/local/sbin/studyhost-fetch", scratch, "studyhost-fetch");
    });

    test("mirrors the prefix, nested folders included, and deletes what the bucket no longer has", () => {
      put("latest/viewbovis.db", "db v1");
      put("latest/json/snps.json", "{}");
      put("older/ignored.txt", "not under the prefix");
      let r = run(fetchScript, [], { env: fetchEnv() });
      expect([r.status, r.stderr]).toEqual([0, expect.stringMatching(/NOTICE: .*100%/)]);
      expect(r.stdout).toContain(`fetch exports: ${dest} mirrors source:${bucket}/latest (2 files)`);
      expect(readFileSync(join(dest, "viewbovis.db"), "utf8")).toBe("db v1");
      expect(readFileSync(join(dest, "json/snps.json"), "utf8")).toBe("{}");
      expect(existsSync(join(dest, "ignored.txt"))).toBe(false);

      put("latest/viewbovis.db", "db v2, longer");
      rmSync(join(bucket, "latest/json"), { recursive: true });
      writeFileSync(join(dest, "stray.tmp"), "left locally");
      r = run(fetchScript, [], { env: fetchEnv() });
      expect(r.status).toBe(0);
      expect(readFileSync(join(dest, "viewbovis.db"), "utf8")).toBe("db v2, longer");
      expect(existsSync(join(dest, "json/snps.json"))).toBe(false);
      expect(existsSync(join(dest, "stray.tmp"))).toBe(false);
    });

    test("an empty prefix or an unreachable bucket fails and leaves the local copy as it was", () => {
      put("latest/viewbovis.db", "db v3");
      expect(run(fetchScript, [], { env: fetchEnv() }).status).toBe(0);
      rmSync(join(bucket, "latest"), { recursive: true });
      mkdirSync(join(bucket, "latest"));
      const empty = run(fetchScript, [], { env: fetchEnv() });
      expect(empty.status).toBe(1);
      expect(empty.stderr).toContain(`fetch exports: source:${bucket}/latest holds nothing; keeping ${dest} as it is`);
      rmSync(join(bucket, "latest"), { recursive: true });
      const missing = run(fetchScript, [], { env: fetchEnv() });
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toContain("directory not found");
      expect(readFileSync(join(dest, "viewbovis.db"), "utf8")).toBe("db v3");
    });

    test("without its settings it refuses to run", () => {
      const r = run(fetchScript, [], { env: { PATH: process.env.PATH } });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("FETCH_NAME");
    });

    test("the rendered env file defines the S3 remote rclone reads: endpoint, region, credentials", () => {
      const h = host("python");
      // bash reads the file as systemd's EnvironmentFile= does (both take NAME="value" lines).
      const dump = run("bash", ["-c", `set -a; . ${join(h.root, "etc/studyhost/fetch-exports.env")}; rclone --config "" listremotes --long; env`], {
        env: { PATH: process.env.PATH, HOME: scratch },
      });
      expect(dump.status).toBe(0);
      expect(dump.stdout).toMatch(/^source:\s+s3$/m);
      for (const line of [
        "FETCH_SOURCE=source:study-exports/latest",
        "FETCH_DEST=/var/lib/studyhost/study/exports",
        "RCLONE_CONFIG_SOURCE_PROVIDER=Other",
        "RCLONE_CONFIG_SOURCE_ENDPOINT=https://fra1.digitaloceanspaces.com",
        "RCLONE_CONFIG_SOURCE_REGION=fra1",
        "RCLONE_CONFIG_SOURCE_ENV_AUTH=false",
        "RCLONE_CONFIG_SOURCE_ACCESS_KEY_ID=AKIAEXAMPLE",
        'RCLONE_CONFIG_SOURCE_SECRET_ACCESS_KEY=se"cr$et',
      ]) {
        expect(dump.stdout.split("\n")).toContain(line);
      }
    });
  });
});
