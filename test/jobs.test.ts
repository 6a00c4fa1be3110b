// Scheduled jobs and boot-time fetches (studyhost:jobs, studyhost:fetch), as rendered: OnCalendar
// expressions passed through, bad input with its one-line error, the units' settings, and the job
// runner run by bash on a job that fails half-way. Checked with the real programs in
// test/host/jobs.test.ts: cron specs against systemd's own calendar arithmetic (with Debian's croniter
// as the independent reading of cron), systemd-analyze verify, shellcheck, cloud-init's schema, and the
// rendered scripts run for real (logrotate, a container job's docker command line, the fetch with rclone).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { fromPulumiConfig } from "../src/config";
import { parseStudyConfig } from "../stacks/config";
import { readStackFile } from "../src/plan";
import { ALERT_ON_FAILURE, cronToOnCalendar, toOnCalendar } from "../src/host";
import { asPulumiConfig, refusal, studyConfig } from "./helpers";
import { copyOut, readRendered, removeRendered, renderHosts, RenderedHost } from "./support/render";
import { runCaptured } from "./support/processes";
import { WITH_FILES } from "../src/plan/hostFiles";
import { jobStacks } from "./support/stacks/jobs";

const run = runCaptured;

describe("cron specs and OnCalendar expressions, as converted", () => {
  test("a day field written with * counts as unrestricted, as Debian's cron has it: one expression, not two", () => {
    expect(cronToOnCalendar("0 0 */10 * 1")).toHaveLength(1);
  });

  test("an OnCalendar expression passes through unchanged", () => {
    for (const expression of ["daily", "*-*-* 03:00:00", "Mon..Fri *-*-* 02:30:00", "hourly", "Sun"]) expect(toOnCalendar(expression)).toEqual([expression]);
  });
});

describe("bad jobs and fetches stop with one line naming the key", () => {
  const errorFor = (overrides: Record<string, unknown>): string => refusal(studyConfig("digitalocean", "small", overrides));
  const job = (fields: Record<string, unknown>) => ({ jobs: [{ name: "intake", schedule: "0 3 * * *", command: "python intake.py", ...fields }] });
  const fetch = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    fetch: [{ name: "data", bucket: "study-data", dest: "data", ...fields }],
    ...extra,
  });
  const EXPECTED = 'expected a cron spec (minute hour day month weekday) such as "0 3 * * *", or a systemd OnCalendar expression such as daily';

  test.each<[string, Record<string, unknown>, string]>([
    ["a minute out of range", job({ schedule: "61 * * * *" }), `studyhost:jobs.0.schedule: got "61 * * * *"; ${EXPECTED} (the minute 61 is outside 0-59)`],
    [
      "a cron spec with four fields",
      job({ schedule: "0 3 * *" }),
      `studyhost:jobs.0.schedule: got "0 3 * *"; ${EXPECTED} (a cron spec has 5 fields, this has 4)`,
    ],
    [
      "an unknown weekday",
      job({ schedule: "0 3 * * funday" }),
      `studyhost:jobs.0.schedule: got "0 3 * * funday"; ${EXPECTED} (the day of week field's funday is not a number or one of sun, mon, tue, wed, thu, fri, sat)`,
    ],
    ["a backwards range", job({ schedule: "0 18-9 * * *" }), `studyhost:jobs.0.schedule: got "0 18-9 * * *"; ${EXPECTED} (the hour range 18-9 runs backwards)`],
    [
      "@reboot",
      job({ schedule: "@reboot" }),
      `studyhost:jobs.0.schedule: got "@reboot"; ${EXPECTED} (@reboot is not a schedule; what must run at every boot belongs in a service)`,
    ],
    [
      "a made-up shorthand",
      job({ schedule: "nightly" }),
      `studyhost:jobs.0.schedule: got "nightly"; ${EXPECTED} (nightly is not one of systemd's shorthands (minutely, hourly, daily, weekly, monthly, yearly, annually, quarterly, semiannually))`,
    ],
    ["no schedule", { jobs: [{ name: "intake", command: "true" }] }, `studyhost:jobs.0.schedule: missing; ${EXPECTED}`],
    [
      "no command",
      { jobs: [{ name: "intake", schedule: "daily" }] },
      "studyhost:jobs.0.command: missing; expected a shell command such as 'python bin/intake.py 3'",
    ],
    ["an app that does not exist", job({ app: "viewer" }), 'studyhost:jobs.0.app: got "viewer"; no app of this study has that name; expected one of: study'],
    [
      "two jobs with one name",
      {
        jobs: [
          { name: "push", schedule: "daily", command: "a" },
          { name: "push", schedule: "hourly", command: "b" },
        ],
      },
      'studyhost:jobs.1.name: got "push"; another job has this name; expected a name of its own (it names the job\'s units and log)',
    ],
    [
      "a job named like its app",
      job({ name: "study" }),
      "studyhost:jobs.0.name: got \"study\"; expected a name other than its app's: the job's log would be the app's own log file",
    ],
    ["a zero timeout", job({ timeoutMinutes: 0 }), "studyhost:jobs.0.timeoutMinutes: got 0; expected a whole number of minutes from 1 to 10080, such as 60"],
    ["an unknown key in a job", job({ cmd: "x" }), "studyhost:jobs.0.cmd: unknown key; valid keys here are name, schedule, command, app, timeoutMinutes"],
    [
      "a private bucket without its secret",
      fetch({ accessKeyId: "AKIAEXAMPLE" }),
      "studyhost:fetchSecretAccessKeys.data: missing; expected the bucket's secret access key (fetch.0.accessKeyId is set): pulumi config set --secret --path 'studyhost:fetchSecretAccessKeys.data' SECRET",
    ],
    [
      "a secret no fetch uses",
      fetch({}, { fetchSecretAccessKeys: { data: "s3cr3t-value" } }),
      "studyhost:fetchSecretAccessKeys.data: got a value of 12 characters (not shown); no fetch with an accessKeyId has this name; expected one of: (none: public buckets need no secret)",
    ],
    [
      "a fetch for an app that does not exist",
      fetch({ app: "viewer" }),
      'studyhost:fetch.0.app: got "viewer"; no app of this study has that name; expected one of: study',
    ],
    [
      "a destination outside the state folder",
      fetch({ dest: "../etc" }),
      'studyhost:fetch.0.dest: got "../etc"; expected a folder name such as data (letters, digits, . _ -; no /)',
    ],
    [
      "two fetches into one folder",
      {
        fetch: [
          { name: "a", bucket: "study-data", dest: "data" },
          { name: "b", bucket: "other-data", dest: "data" },
        ],
      },
      'studyhost:fetch.1.dest: got "data"; another fetch mirrors into this folder, and each would delete the other\'s files; expected a folder of its own',
    ],
    ["a re-sync schedule out of range", fetch({ every: "0 24 * * *" }), `studyhost:fetch.0.every: got "0 24 * * *"; ${EXPECTED} (the hour 24 is outside 0-23)`],
    [
      "a prefix that climbs out",
      fetch({ prefix: "exports/../secrets" }),
      'studyhost:fetch.0.prefix: got "exports/../secrets"; expected a key prefix inside the bucket such as exports/latest (no leading /, no ..)',
    ],
  ])("%s", (_label, overrides, expected) => {
    expect(errorFor(overrides)).toEqual(expected);
  });

  test("a secret set with --path in a stack file (encrypted inside the map) reads offline as a placeholder", () => {
    const dir = mkdtempSync(join(tmpdir(), "studyhost-stack-"));
    const config = { ...asPulumiConfig(studyConfig("digitalocean", "small", fetch({ accessKeyId: "AKIAEXAMPLE" }))) };
    const yaml = Object.entries(config)
      .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
      .join("\n");
    writeFileSync(join(dir, "Pulumi.pilot.yaml"), `config:\n${yaml}\n  studyhost:fetchSecretAccessKeys:\n    data:\n      secure: v1:AAAABBBB\n`);
    const file = readStackFile(join(dir, "Pulumi.pilot.yaml"));
    rmSync(dir, { recursive: true, force: true });
    expect(file.secretKeys).toEqual(["studyhost:fetchSecretAccessKeys"]);
    expect(parseStudyConfig(fromPulumiConfig(file.config)).fetchSecretAccessKeys).toEqual({ data: "[secret: encrypted in the stack file]" });
  });

  test("a valid job and fetch take their defaults: the study's app, 60 and 30 minutes", () => {
    const c = parseStudyConfig(
      studyConfig("digitalocean", "small", { ...job({}), ...fetch({ accessKeyId: "AKIAEXAMPLE" }, { fetchSecretAccessKeys: { data: "s3cr3t" } }) }),
    );
    expect(c.jobs).toEqual([{ name: "intake", schedule: "0 3 * * *", command: "python intake.py", app: "study", timeoutMinutes: 60 }]);
    expect(c.fetch).toEqual([{ name: "data", bucket: "study-data", dest: "data", accessKeyId: "AKIAEXAMPLE", app: "study", timeoutMinutes: 30 }]);
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

describe("the rendered jobs and fetches", () => {
  test("a job runs as its app, with the app's sandbox, on a timer that catches up after downtime; a failure alerts", () => {
    const h = host("python");
    const service = read(h, "etc/systemd/system/studyhost-job-report.service");
    const app = read(h, "etc/systemd/system/study.service");
    for (const line of [
      "User=study",
      "EnvironmentFile=/etc/study/env",
      "Environment=PATH=/srv/study/venv/bin:/usr/local/bin:/usr/bin:/bin",
      "WorkingDirectory=/srv/study/src",
      "ProtectSystem=strict",
      "NoNewPrivileges=yes",
      "ReadWritePaths=/var/lib/studyhost/study /var/log/study",
    ]) {
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
    expect(manifest.jobs[0]).toEqual({
      name: "report",
      app: "study",
      schedule: "*/15 * * * *",
      onCalendar: ["*-*-* *:00/15:00"],
      timer: "studyhost-job-report.timer",
      log: "/var/log/study/report.log",
      timeoutMinutes: 5,
    });
  });

  test("the fetch runs at every boot before the app, without the app requiring it, as the app's user", () => {
    for (const [label, app, name] of [
      ["python", "study", "exports"],
      ["container", "viewer", "production"],
    ]) {
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
      const written = parse(readFileSync(join(h.dir, whole), "utf8")).write_files as { path: string; permissions: string }[];
      expect(written.find((f) => f.path === `/etc/studyhost/fetch-${name}.env`)?.permissions).toBe("0600");
      expect(read(h, "usr/local/sbin/studyhost-provision")).toContain(`systemctl enable studyhost-fetch-${name}.service\n`);
    }
    // The public bucket carries no credentials at all: rclone then reads it anonymously.
    expect(read(host("container"), "etc/studyhost/fetch-production.env")).not.toMatch(/ACCESS_KEY|SECRET/);
    expect(existsSync(join(host("container").root, "etc/systemd/system/studyhost-fetch-production.timer"))).toBe(false);
  });
});

describe("the job runner, run by bash", () => {
  test("a job that fails half-way fails, with its status, and stops there", () => {
    const h = host("python");
    const runJob = copyOut(h, "usr/local/lib/studyhost/run-job", scratch, "run-job");
    const script = copyOut(h, "usr/local/lib/studyhost/jobs/fails_halfway.sh", scratch, "fails_halfway.sh");
    const log = join(scratch, "fails_halfway.log");
    const r = run(runJob, [log, script], { cwd: scratch });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("before\n");
    expect(r.stdout).not.toContain("after\n");
    expect(readFileSync(log, "utf8")).toMatch(/before\n== \S+ \S+ finished with exit status 1\n$/);
  });
});
