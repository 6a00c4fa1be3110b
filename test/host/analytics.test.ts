// Access-log analytics (studyhost:analytics) with the real programs: the rendered Python script run
// for real on synthetic nginx logs laid out as Debian's logrotate leaves them (live log, .1, .2.gz,
// older .gz), with lines of other days in every file; its JSON compared exactly; pruning by date; the
// units through systemd-analyze verify, the scripts through shellcheck and the document through
// cloud-init's schema. What is rendered, and bad values: test/analytics.test.ts.
// Needs Debian's python3, systemd, shellcheck and cloud-init.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ANALYTICS_PY } from "../../src/host";
import { removeRendered, renderHosts, RenderedHost } from "../support/render";
import { analyticsStacks } from "../support/stacks/analytics";
import { verifyUnits } from "../support/verify";

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
};

/** One line of nginx's combined format. */
const line = (time: string, request: string, status: number) =>
  `203.0.113.7 - - [${time} +0000] "${request}" ${status} 512 "https://study.example.org/" "Mozilla/5.0 (X11; Linux x86_64) \\x22quoted\\x22"\n`;

let scratch: string;
let hosts: RenderedHost[];
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "studyhost-analytics-"));
  hosts = await renderHosts(analyticsStacks());
}, 60000);
afterAll(() => {
  removeRendered(hosts);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});
const host = (label: string) => hosts.find((h) => h.label.startsWith(`${label}/`))!;

describe("the counting script, run for real", () => {
  // Logrotate ran at 00:20 on the 27th (timer: daily, up to an hour late); the job counts the 26th.
  function layOutLogs(dir: string): string {
    mkdirSync(dir, { recursive: true });
    const log = join(dir, "study.access.log");
    writeFileSync(log, [line("27/Feb/2026:00:20:01", "GET /sample?id=9 HTTP/1.1", 200), line("27/Feb/2026:08:00:00", "GET / HTTP/1.1", 200)].join(""));
    writeFileSync(
      `${log}.1`,
      [
        line("26/Feb/2026:00:15:00", "GET /sample?id=1&x=2 HTTP/1.1", 200),
        line("26/Feb/2026:09:30:00", "GET /sample HTTP/1.1", 200),
        line("26/Feb/2026:09:31:00", "GET /sample/related?id=1 HTTP/2.0", 200),
        line("26/Feb/2026:10:00:00", "POST /charon/getDataset?prefix=x HTTP/1.1", 201),
        line("26/Feb/2026:11:00:00", "GET /wp-login.php HTTP/1.1", 404),
        // Scanners: TLS bytes on the wrong port, an empty request, an absolute URI.
        line("26/Feb/2026:12:00:00", "\\x16\\x03\\x01\\x00\\xA5\\x01", 400),
        line("26/Feb/2026:12:01:00", "-", 400),
        line("26/Feb/2026:12:02:00", "GET http://study.example.org/sample?id=3 HTTP/1.1", 200),
        "this line is not in the combined format\n",
        line("26/Feb/2026:23:59:59", "GET /#frag HTTP/1.1", 304),
        line("27/Feb/2026:00:10:00", "GET /sample HTTP/1.1", 200),
      ].join(""),
    );
    writeFileSync(
      `${log}.2.gz`,
      gzipSync(
        [
          line("25/Feb/2026:00:12:00", "GET /sample HTTP/1.1", 200),
          line("25/Feb/2026:18:00:00", "GET / HTTP/1.1", 500),
          line("26/Feb/2026:00:00:00", "GET / HTTP/1.1", 200),
          line("26/Feb/2026:00:14:00", "GET /sample/matrix HTTP/1.1", 200),
        ].join(""),
      ),
    );
    // Starts before the 26th (.2.gz did): the script must stop before reading it; if it did, this
    // file, which is not gzip, would fail the run.
    writeFileSync(`${log}.3.gz`, "not gzip at all");
    return log;
  }

  test("counts only the given day, across the live log, .1 and .2.gz, without query strings", () => {
    const dir = join(scratch, "count");
    const log = layOutLogs(join(dir, "logs"));
    const script = join(dir, "analytics.py");
    writeFileSync(script, ANALYTICS_PY);
    const out = join(dir, "out");
    // Old counts: one just inside keepDays (30 days before today), one just outside, and a stranger.
    mkdirSync(join(out, "study"), { recursive: true });
    for (const name of ["2026-01-28.json", "2026-01-27.json", "notes.txt"]) writeFileSync(join(out, "study", name), "{}\n");
    const r = run("/usr/bin/python3", [
      script,
      "--out",
      out,
      "--keep-days",
      "30",
      "--today",
      "2026-02-27",
      `study=${log}`,
      `study_staging=${join(dir, "logs", "study_staging.access.log")}`,
    ]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toBe("study 2026-02-26: 11 requests, 6 paths; 1 old files removed\nstudy_staging 2026-02-26: 0 requests, 0 paths; 0 old files removed\n");
    expect(JSON.parse(readFileSync(join(out, "study", "2026-02-26.json"), "utf8"))).toEqual({
      site: "study",
      date: "2026-02-26",
      requests: 11,
      paths: { "/": 2, "/sample": 3, "/sample/related": 1, "/sample/matrix": 1, "/charon/getDataset": 1, "/wp-login.php": 1 },
      statuses: { "200": 6, "201": 1, "304": 1, "400": 2, "404": 1 },
      malformed: 2,
    });
    // Keys sorted, two-space indent, a final newline: the same day always gives the same bytes.
    expect(readFileSync(join(out, "study", "2026-02-26.json"), "utf8")).toMatch(
      /^\{\n  "date": "2026-02-26",\n  "malformed": 2,\n  "paths": \{\n    "\/": 2,\n/,
    );
    expect(JSON.parse(readFileSync(join(out, "study_staging", "2026-02-26.json"), "utf8"))).toEqual({
      site: "study_staging",
      date: "2026-02-26",
      requests: 0,
      paths: {},
      statuses: {},
      malformed: 0,
    });
    expect(readdirSync(join(out, "study")).sort()).toEqual(["2026-01-28.json", "2026-02-26.json", "notes.txt"]);
  });

  test("without --date it counts yesterday; before rotation yesterday's lines are in the live log", () => {
    const dir = join(scratch, "unrotated");
    mkdirSync(dir, { recursive: true });
    const log = join(dir, "study.access.log");
    const day = (offset: number) => new Date(Date.now() + offset * 86400_000);
    const nginxDate = (d: Date) => `${String(d.getDate()).padStart(2, "0")}/${d.toLocaleString("en-US", { month: "short" })}/${d.getFullYear()}`;
    const iso = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    writeFileSync(
      log,
      [
        line(`${nginxDate(day(-2))}:23:00:00`, "GET /old HTTP/1.1", 200),
        line(`${nginxDate(day(-1))}:08:00:00`, "GET /a?b HTTP/1.1", 200),
        line(`${nginxDate(day(0))}:00:01:00`, "GET /today HTTP/1.1", 200),
      ].join(""),
    );
    writeFileSync(`${log}.1`, line(`${nginxDate(day(-3))}:10:00:00`, "GET /older HTTP/1.1", 200));
    const script = join(dir, "analytics.py");
    writeFileSync(script, ANALYTICS_PY);
    const r = run("/usr/bin/python3", [script, "--out", join(dir, "out"), "--keep-days", "90", `study=${log}`]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    const yesterday = iso(day(-1));
    expect(JSON.parse(readFileSync(join(dir, "out", "study", `${yesterday}.json`), "utf8"))).toEqual({
      site: "study",
      date: yesterday,
      requests: 1,
      paths: { "/a": 1 },
      statuses: { "200": 1 },
      malformed: 0,
    });
  });

  test("a bad argument stops it with a usage error", () => {
    const dir = join(scratch, "bad");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "analytics.py"), ANALYTICS_PY);
    const r = run("/usr/bin/python3", [join(dir, "analytics.py"), "--out", dir, "--keep-days", "9", "../etc=/var/log/x"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/expected SITE=LOG, got \.\.\/etc=\/var\/log\/x/);
  });
});

describe("the rendered host, checked with the real programs", () => {
  test("the units pass systemd-analyze verify with no output", () => {
    const verdicts = verifyUnits(host("analytics"), (u) => u.startsWith("studyhost-analytics"));
    expect(verdicts.map((v) => v.unit).sort()).toEqual(["studyhost-analytics.service", "studyhost-analytics.timer"]);
    for (const v of verdicts) expect([v.unit, v.output]).toEqual([v.unit, ""]);
  });

  test("the provisioning script passes shellcheck, the script compiles, the document passes cloud-init's schema", () => {
    const h = host("analytics");
    expect(run("shellcheck", [join(h.root, "usr/local/sbin/studyhost-provision")]).output).toBe("");
    expect(run("/usr/bin/python3", ["-m", "py_compile", join(h.root, "usr/local/lib/studyhost/analytics.py")]).output).toBe("");
    const schema = run("cloud-init", ["schema", "--config-file", join(h.dir, "user-data")]);
    expect([schema.status, schema.output]).toEqual([0, `Valid cloud-config: ${join(h.dir, "user-data")}`]);
  });
});
