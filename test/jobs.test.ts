// Scheduled jobs and boot-time fetches (studyhost:jobs, studyhost:fetch), checked with the real programs:
// cron specs against systemd's own calendar arithmetic, with Debian's croniter as the independent
// reading of cron; the rendered units with systemd-analyze verify, the scripts with shellcheck, the
// document with cloud-init's schema; bad input with its one-line error; and the rendered scripts run
// for real (the job runner and its log, a container job's docker command line, the fetch with rclone).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { fromPulumiConfig, parseStudyConfig } from "../src/config";
import { readStackFile } from "../src/plan";
import { ALERT_ON_FAILURE, cronToOnCalendar, toOnCalendar } from "../src/host";
import { asPulumiConfig, refusal, studyConfig } from "./helpers";
import { renderHosts, RenderedHost } from "./support/render";
import { WITH_FILES } from "../src/cli/hostFiles";
import { verifyUnits } from "./support/verify";

const run = (cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...options });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
};

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

describe("bad jobs and fetches stop with one line naming the key", () => {
  const errorFor = (overrides: Record<string, unknown>): string => refusal(studyConfig("digitalocean", "small", overrides));
  const job = (fields: Record<string, unknown>) => ({ jobs: [{ name: "intake", schedule: "0 3 * * *", command: "python intake.py", ...fields }] });
  const fetch = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ fetch: [{ name: "data", bucket: "study-data", dest: "data", ...fields }], ...extra });
  const EXPECTED = 'expected a cron spec (minute hour day month weekday) such as "0 3 * * *", or a systemd OnCalendar expression such as daily';

  test.each<[string, Record<string, unknown>, string]>([
    ["a minute out of range", job({ schedule: "61 * * * *" }), `studyhost:jobs.0.schedule: got "61 * * * *"; ${EXPECTED} (the minute 61 is outside 0-59)`],
    ["a cron spec with four fields", job({ schedule: "0 3 * *" }), `studyhost:jobs.0.schedule: got "0 3 * *"; ${EXPECTED} (a cron spec has 5 fields, this has 4)`],
    ["an unknown weekday", job({ schedule: "0 3 * * funday" }), `studyhost:jobs.0.schedule: got "0 3 * * funday"; ${EXPECTED} (the day of week field's funday is not a number or one of sun, mon, tue, wed, thu, fri, sat)`],
    ["a backwards range", job({ schedule: "0 18-9 * * *" }), `studyhost:jobs.0.schedule: got "0 18-9 * * *"; ${EXPECTED} (the hour range 18-9 runs backwards)`],
    ["@reboot", job({ schedule: "@reboot" }), `studyhost:jobs.0.schedule: got "@reboot"; ${EXPECTED} (@reboot is not a schedule; what must run at every boot belongs in a service)`],
    ["a made-up shorthand", job({ schedule: "nightly" }), `studyhost:jobs.0.schedule: got "nightly"; ${EXPECTED} (nightly is not one of systemd's shorthands (minutely, hourly, daily, weekly, monthly, yearly, annually, quarterly, semiannually))`],
    ["no schedule", { jobs: [{ name: "intake", command: "true" }] }, `studyhost:jobs.0.schedule: missing; ${EXPECTED}`],
    ["no command", { jobs: [{ name: "intake", schedule: "daily" }] }, "studyhost:jobs.0.command: missing; expected a shell command such as 'python bin/intake.py 3'"],
    ["an app that does not exist", job({ app: "viewer" }), 'studyhost:jobs.0.app: got "viewer"; no app of this study has that name; expected one of: study'],
    ["two jobs with one name", { jobs: [{ name: "push", schedule: "daily", command: "a" }, { name: "push", schedule: "hourly", command: "b" }] }, 'studyhost:jobs.1.name: got "push"; another job has this name; expected a name of its own (it names the job\'s units and log)'],
    ["a job named like its app", job({ name: "study" }), 'studyhost:jobs.0.name: got "study"; expected a name other than its app\'s: the job\'s log would be the app\'s own log file'],
    ["a zero timeout", job({ timeoutMinutes: 0 }), "studyhost:jobs.0.timeoutMinutes: got 0; expected a whole number of minutes from 1 to 10080, such as 60"],
    ["an unknown key in a job", job({ cmd: "x" }), "studyhost:jobs.0.cmd: unknown key; valid keys here are name, schedule, command, app, timeoutMinutes"],
    ["a private bucket without its secret", fetch({ accessKeyId: "AKIAEXAMPLE" }), "studyhost:fetchSecretAccessKeys.data: missing; expected the bucket's secret access key (fetch.0.accessKeyId is set): pulumi config set --secret --path 'studyhost:fetchSecretAccessKeys.data' SECRET"],
    ["a secret no fetch uses", fetch({}, { fetchSecretAccessKeys: { data: "s3cr3t-value" } }), "studyhost:fetchSecretAccessKeys.data: got a value of 12 characters (not shown); no fetch with an accessKeyId has this name; expected one of: (none: public buckets need no secret)"],
    ["a fetch for an app that does not exist", fetch({ app: "viewer" }), 'studyhost:fetch.0.app: got "viewer"; no app of this study has that name; expected one of: study'],
    ["a destination outside the state folder", fetch({ dest: "../etc" }), 'studyhost:fetch.0.dest: got "../etc"; expected a folder name such as data (letters, digits, . _ -; no /)'],
    ["two fetches into one folder", { fetch: [{ name: "a", bucket: "study-data", dest: "data" }, { name: "b", bucket: "other-data", dest: "data" }] }, 'studyhost:fetch.1.dest: got "data"; another fetch mirrors into this folder, and each would delete the other\'s files; expected a folder of its own'],
    ["a re-sync schedule out of range", fetch({ every: "0 24 * * *" }), `studyhost:fetch.0.every: got "0 24 * * *"; ${EXPECTED} (the hour 24 is outside 0-23)`],
    ["a prefix that climbs out", fetch({ prefix: "exports/../secrets" }), 'studyhost:fetch.0.prefix: got "exports/../secrets"; expected a key prefix inside the bucket such as exports/latest (no leading /, no ..)'],
  ])("%s", (_label, overrides, expected) => {
    expect(errorFor(overrides)).toEqual(expected);
  });

  test("a secret set with --path in a stack file (encrypted inside the map) reads offline as a placeholder", () => {
    const dir = mkdtempSync(join(tmpdir(), "studyhost-stack-"));
    const config = { ...asPulumiConfig(studyConfig("digitalocean", "small", fetch({ accessKeyId: "AKIAEXAMPLE" }))) };
    const yaml = Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join("\n");
    writeFileSync(join(dir, "Pulumi.pilot.yaml"), `config:\n${yaml}\n  studyhost:fetchSecretAccessKeys:\n    data:\n      secure: v1:AAAABBBB\n`);
    const file = readStackFile(join(dir, "Pulumi.pilot.yaml"));
    rmSync(dir, { recursive: true, force: true });
    expect(file.secretKeys).toEqual(["studyhost:fetchSecretAccessKeys"]);
    expect(parseStudyConfig(fromPulumiConfig(file.config)).fetchSecretAccessKeys).toEqual({ data: "[secret: encrypted in the stack file]" });
  });

  test("a valid job and fetch take their defaults: the study's app, 60 and 30 minutes", () => {
    const c = parseStudyConfig(studyConfig("digitalocean", "small", { ...job({}), ...fetch({ accessKeyId: "AKIAEXAMPLE" }, { fetchSecretAccessKeys: { data: "s3cr3t" } }) }));
    expect(c.jobs).toEqual([{ name: "intake", schedule: "0 3 * * *", command: "python intake.py", app: "study", timeoutMinutes: 60 }]);
    expect(c.fetch).toEqual([{ name: "data", bucket: "study-data", dest: "data", accessKeyId: "AKIAEXAMPLE", app: "study", timeoutMinutes: 30 }]);
  });
});

// What the rendered files are checked on: a Python app (git) with two jobs and a private bucket on an
// S3-compatible endpoint, re-synced nightly; a container app with one job and a public AWS bucket.
const REPORT_COMMAND = `echo "report for $STUDY_LABEL in $PWD"
python3 -c 'import sys; print("args:", sys.argv[1:])' one "two words"`;
const CONTAINER_COMMAND = `python -c 'print("it'"'"'s 100% done")' && echo "$HOME; \\$not-expanded" > /var/log/viewer/analytics.json`;
const CONFIGS: Record<string, Record<string, unknown>> = {
  python: studyConfig("digitalocean", "small", {
    jobs: [
      { name: "report", schedule: "*/15 * * * *", command: REPORT_COMMAND, timeoutMinutes: 5 },
      { name: "fails_halfway", schedule: "daily", command: "echo before\nfalse\necho after" },
    ],
    fetch: [{ name: "exports", bucket: "study-exports", prefix: "latest/", endpoint: "https://fra1.digitaloceanspaces.com", region: "fra1", accessKeyId: "AKIAEXAMPLE", dest: "exports", every: "0 4 * * *" }],
    fetchSecretAccessKeys: { exports: 'se"cr$et' },
  }),
  container: studyConfig("aws", "small", {
    app: { kind: "container", name: "viewer", image: "ghcr.io/example/viewer:1.2", port: 3000, volumes: [{ name: "data", containerPath: "/data", readOnly: true }] },
    jobs: [{ name: "analytics", schedule: "0 22 * * 1-5", command: CONTAINER_COMMAND }],
    fetch: [{ name: "production", bucket: "open-study-data", region: "eu-west-2", dest: "data" }],
  }),
};

let hosts: RenderedHost[];
let scratch: string;
beforeAll(async () => {
  hosts = (await renderHosts(CONFIGS)).filter((h) => h.host.endsWith("-app"));
  scratch = mkdtempSync(join(tmpdir(), "studyhost-jobs-"));
}, 60000);
afterAll(() => {
  for (const h of hosts ?? []) rmSync(dirname(dirname(h.dir)), { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const host = (label: string) => hosts.find((h) => h.label.startsWith(`${label}/`))!;
const read = (h: RenderedHost, path: string) => readFileSync(join(h.root, path), "utf8");
const ours = (unit: string) => /^studyhost-(job|fetch)-/.test(unit);

describe("the rendered jobs and fetches", () => {
  test("every job and fetch unit passes systemd-analyze verify with no output", () => {
    const expected = { python: ["studyhost-fetch-exports.service", "studyhost-fetch-exports.timer", "studyhost-job-fails_halfway.service", "studyhost-job-fails_halfway.timer", "studyhost-job-report.service", "studyhost-job-report.timer"], container: ["studyhost-fetch-production.service", "studyhost-job-analytics.service", "studyhost-job-analytics.timer"] };
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
      const scripts = ["usr/local/lib/studyhost/run-job", "usr/local/sbin/studyhost-fetch", "usr/local/sbin/studyhost-provision", ...readdirSync(join(h.root, "usr/local/lib/studyhost/jobs")).map((f) => `usr/local/lib/studyhost/jobs/${f}`)];
      for (const s of scripts) expect([h.label, s, run("shellcheck", [join(h.root, s)]).output]).toEqual([h.label, s, ""]);
      const schema = run("cloud-init", ["schema", "--config-file", join(h.dir, "user-data")]);
      expect([h.label, schema.status, schema.output]).toEqual([h.label, 0, `Valid cloud-config: ${join(h.dir, "user-data")}`]);
    }
  });

  test("a job runs as its app, with the app's sandbox, on a timer that catches up after downtime; a failure alerts", () => {
    const h = host("python");
    const service = read(h, "etc/systemd/system/studyhost-job-report.service");
    const app = read(h, "etc/systemd/system/study.service");
    for (const line of ["User=study", "EnvironmentFile=/etc/study/env", "Environment=PATH=/srv/study/venv/bin:/usr/local/bin:/usr/bin:/bin", "WorkingDirectory=/srv/study/src", "ProtectSystem=strict", "NoNewPrivileges=yes", "ReadWritePaths=/var/lib/studyhost/study /var/log/study"]) {
      expect([line, app.split("\n").includes(line), service.split("\n").includes(line)]).toEqual([line, true, true]);
    }
    expect(service).toContain("Type=oneshot\n");
    expect(service).toContain("TimeoutStartSec=5min\n");
    expect(service).toContain("ExecStart=/usr/local/lib/studyhost/run-job /var/log/study/report.log /usr/local/lib/studyhost/jobs/report.sh\n");
    // The same line the backup unit carries: the same alert.
    expect(service.split("\n")).toContain(ALERT_ON_FAILURE);
    expect(read(h, "etc/systemd/system/studyhost-backup.service").split("\n")).toContain(ALERT_ON_FAILURE);
    const timer = read(h, "etc/systemd/system/studyhost-job-report.timer");
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* \*:00\/15:00$/m);
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(timer).toMatch(/^RandomizedDelaySec=30s$/m);
    const provision = read(h, "usr/local/sbin/studyhost-provision");
    expect(provision).toContain("systemctl enable --now studyhost-job-report.timer\n");
    const manifest = JSON.parse(read(h, "etc/studyhost/manifest.rendered.json"));
    expect(manifest.jobs[0]).toEqual({ name: "report", app: "study", schedule: "*/15 * * * *", onCalendar: ["*-*-* *:00/15:00"], timer: "studyhost-job-report.timer", log: "/var/log/study/report.log", timeoutMinutes: 5 });
  });

  test("the fetch runs at every boot before the app, without the app requiring it, as the app's user", () => {
    for (const [label, app, name] of [["python", "study", "exports"], ["container", "viewer", "production"]]) {
      const h = host(label);
      const fetch = read(h, `etc/systemd/system/studyhost-fetch-${name}.service`);
      const appUnit = read(h, `etc/systemd/system/${app}.service`);
      expect(fetch).toMatch(new RegExp(`^Before=${app}\\.service$`, "m"));
      expect(fetch).toMatch(/^WantedBy=multi-user\.target$/m);
      expect(fetch).toMatch(new RegExp(`^User=${app}$`, "m"));
      expect(fetch.split("\n")).toContain(ALERT_ON_FAILURE);
      // A failed fetch must not keep the app down: nothing ties the app's start to the fetch's success.
      expect(fetch).not.toMatch(/^(Requires|BindsTo|RequiredBy|Requisite)=/m);
      expect(appUnit).not.toContain("studyhost-fetch");
      const whole = h.files.includes(WITH_FILES) ? WITH_FILES : "user-data";
      const written = (parse(readFileSync(join(h.dir, whole), "utf8")).write_files as { path: string; permissions: string }[]);
      expect(written.find((f) => f.path === `/etc/studyhost/fetch-${name}.env`)?.permissions).toBe("0600");
      expect(read(h, "usr/local/sbin/studyhost-provision")).toContain(`systemctl enable studyhost-fetch-${name}.service\n`);
    }
    // The public bucket carries no credentials at all: rclone then reads it anonymously.
    expect(read(host("container"), "etc/studyhost/fetch-production.env")).not.toMatch(/ACCESS_KEY|SECRET/);
    expect(existsSync(join(host("container").root, "etc/systemd/system/studyhost-fetch-production.timer"))).toBe(false);
  });
});

describe("the rendered scripts, run for real", () => {
  /** A rendered file copied out to the scratch folder, executable. */
  function copyOut(h: RenderedHost, path: string, name: string, edit: (text: string) => string = (t) => t): string {
    const file = join(scratch, name);
    writeFileSync(file, edit(read(h, path)));
    chmodSync(file, 0o755);
    return file;
  }

  test("a job's output reaches the journal (stdout) and its log, runs after runs; the log is rotated with the app's", () => {
    const h = host("python");
    const runJob = copyOut(h, "usr/local/lib/studyhost/run-job", "run-job");
    const script = copyOut(h, "usr/local/lib/studyhost/jobs/report.sh", "report.sh");
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

  test("a job that fails half-way fails, with its status, and stops there", () => {
    const h = host("python");
    const runJob = copyOut(h, "usr/local/lib/studyhost/run-job", "run-job");
    const script = copyOut(h, "usr/local/lib/studyhost/jobs/fails_halfway.sh", "fails_halfway.sh");
    const log = join(scratch, "fails_halfway.log");
    const r = run(runJob, [log, script], { cwd: scratch });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("before\n");
    expect(r.stdout).not.toContain("after\n");
    expect(readFileSync(log, "utf8")).toMatch(/before\n== \S+ \S+ finished with exit status 1\n$/);
  });

  test("a container job is one docker run of the app's image, as the app's user, with the command intact", () => {
    const h = host("container");
    // A stand-in docker (no Docker daemon here) that records its arguments; the script's absolute
    // path to docker is pointed at it, nothing else changes.
    const stub = join(scratch, "docker-stub");
    writeFileSync(stub, `#!/usr/bin/python3\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\nsys.exit(7)\n`);
    chmodSync(stub, 0o755);
    const script = copyOut(h, "usr/local/lib/studyhost/jobs/analytics.sh", "analytics.sh", (t) => t.replace("/usr/bin/docker ", `${stub} `));
    const r = run("bash", [script], { env: { ...process.env, APP_UID: "998", APP_GID: "997" } });
    // docker's exit status (the command's, in the container) is the job's.
    expect(r.status).toBe(7);
    const argv: string[] = JSON.parse(r.stdout);
    expect(argv).toEqual([
      "run", "--rm", "--name", "studyhost-job-analytics", "--user", "998:997",
      "--network", "host", "--cap-drop", "ALL", "--log-driver", "none", "--security-opt", "no-new-privileges", "--env-file", "/etc/viewer/docker.env",
      "-v", "/var/lib/studyhost/viewer/data:/data:ro", "-v", "/var/log/viewer:/var/log/viewer", "--env", "LOG_DIR=/var/log/viewer",
      "--entrypoint", "/bin/sh", "ghcr.io/example/viewer:1.2", "-c", CONTAINER_COMMAND,
    ]);
    // The same options as the app's own container.
    const appRun = /^ExecStart=(.*)$/m.exec(read(h, "etc/systemd/system/viewer.service"))![1];
    expect(appRun).toContain("--network host --cap-drop ALL --log-driver none --security-opt no-new-privileges --env-file /etc/viewer/docker.env -v /var/lib/studyhost/viewer/data:/data:ro -v /var/log/viewer:/var/log/viewer");
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
    const fetchEnv = () => ({ PATH: process.env.PATH, HOME: scratch, FETCH_NAME: "exports", FETCH_SOURCE: `source:${bucket}/latest`, FETCH_DEST: dest, RCLONE_CONFIG_SOURCE_TYPE: "local" });
    const put = (path: string, content: string) => {
      mkdirSync(dirname(join(bucket, path)), { recursive: true });
      writeFileSync(join(bucket, path), content);
    };
    beforeAll(() => {
      bucket = join(scratch, "bucket");
      dest = join(scratch, "state/exports");
      fetchScript = copyOut(host("python"), "usr/local/sbin/studyhost-fetch", "studyhost-fetch");
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
      const dump = run("bash", ["-c", `set -a; . ${join(h.root, "etc/studyhost/fetch-exports.env")}; rclone --config "" listremotes --long; env`], { env: { PATH: process.env.PATH, HOME: scratch } });
      expect(dump.status).toBe(0);
      expect(dump.stdout).toMatch(/^source:\s+s3$/m);
      for (const line of ["FETCH_SOURCE=source:study-exports/latest", "FETCH_DEST=/var/lib/studyhost/study/exports", "RCLONE_CONFIG_SOURCE_PROVIDER=Other", "RCLONE_CONFIG_SOURCE_ENDPOINT=https://fra1.digitaloceanspaces.com", "RCLONE_CONFIG_SOURCE_REGION=fra1", "RCLONE_CONFIG_SOURCE_ENV_AUTH=false", "RCLONE_CONFIG_SOURCE_ACCESS_KEY_ID=AKIAEXAMPLE", 'RCLONE_CONFIG_SOURCE_SECRET_ACCESS_KEY=se"cr$et']) {
        expect(dump.stdout.split("\n")).toContain(line);
      }
    });
  });
});
