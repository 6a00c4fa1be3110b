// Access-log analytics (studyhost:analytics), as rendered: the timer, the sandboxed service and the
// manifest, nothing of it without the key, and bad values with their one-line errors. The counting
// script run for real by python3 on synthetic nginx logs, the units through systemd-analyze verify, the
// scripts through shellcheck and the document through cloud-init's schema: test/host/analytics.test.ts.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../src/config";
import { parseStudyConfig } from "../stacks/config";
import { ANALYTICS_PY } from "../src/host";
import { studyConfig } from "./helpers";
import { removeRendered, renderHosts, RenderedHost } from "./support/render";
import { analyticsStacks } from "./support/stacks/analytics";

let hosts: RenderedHost[];
beforeAll(async () => {
  hosts = await renderHosts(analyticsStacks());
}, 60000);
afterAll(() => {
  removeRendered(hosts);
});
const host = (label: string) => hosts.find((h) => h.label.startsWith(`${label}/`))!;
const read = (h: RenderedHost, path: string) => readFileSync(join(h.root, path), "utf8");

describe("the rendered host", () => {
  test("a timer and a sandboxed oneshot service, run as studyhost-analytics with adm for reading logs", () => {
    const h = host("analytics");
    const service = read(h, "etc/systemd/system/studyhost-analytics.service");
    expect(service).toContain(
      "ExecStart=/usr/bin/python3 /usr/local/lib/studyhost/analytics.py --out /var/lib/studyhost/analytics --keep-days 30 study_staging=/var/log/nginx/study_staging.access.log study=/var/log/nginx/study.access.log\n",
    );
    for (const l of [
      "User=studyhost-analytics",
      "SupplementaryGroups=adm",
      "ProtectSystem=strict",
      "ReadWritePaths=/var/lib/studyhost/analytics",
      "PrivateNetwork=yes",
      "CapabilityBoundingSet=",
      "NoNewPrivileges=yes",
      "OnFailure=studyhost-alert@%n.service",
      "RequiresMountsFor=/var/lib/studyhost",
    ]) {
      expect(service.split("\n")).toContain(l);
    }
    const timer = read(h, "etc/systemd/system/studyhost-analytics.timer");
    expect(timer).toContain("OnCalendar=*-*-* 01:30:00\n");
    expect(timer).toContain("Persistent=true\n");
    expect(read(h, "usr/local/lib/studyhost/analytics.py")).toBe(ANALYTICS_PY);
    // Each site keeps its own access log, named after its app: that is what tells them apart.
    expect(read(h, "etc/nginx/sites-available/studyhost-study_staging.conf")).toContain("access_log /var/log/nginx/study_staging.access.log;");
    const manifest = JSON.parse(read(h, "etc/studyhost/manifest.rendered.json"));
    expect(manifest.analytics).toEqual({
      schedule: "30 1 * * *",
      onCalendar: ["*-*-* 01:30:00"],
      keepDays: 30,
      out: "/var/lib/studyhost/analytics/<site>/<YYYY-MM-DD>.json",
      sites: { study: "/var/log/nginx/study.access.log", study_staging: "/var/log/nginx/study_staging.access.log" },
      timer: "studyhost-analytics.timer",
      user: "studyhost-analytics",
    });
    const userData = parse(readFileSync(join(h.dir, "user-data"), "utf8"));
    expect(userData.packages).toContain("python3");
    const provision = read(h, "usr/local/sbin/studyhost-provision");
    expect(provision).toContain("useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin studyhost-analytics");
    expect(provision).toContain("install -d -o studyhost-analytics -g studyhost-analytics -m 0750 /var/lib/studyhost/analytics");
  });

  test("without the key nothing of it is rendered", () => {
    const h = host("plain");
    expect(existsSync(join(h.root, "etc/systemd/system/studyhost-analytics.service"))).toBe(false);
    expect(existsSync(join(h.root, "usr/local/lib/studyhost/analytics.py"))).toBe(false);
    expect(JSON.parse(read(h, "etc/studyhost/manifest.rendered.json")).analytics).toBeUndefined();
  });
});

describe("bad values stop with one line naming the key", () => {
  const error = (overrides: Record<string, unknown>) => {
    try {
      parseStudyConfig(studyConfig("aws", "small", { database: { engine: "sqlite" }, ...overrides }));
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error("expected a ConfigError");
  };
  test.each([
    [{ analytics: { keepDays: 0 } }, "studyhost:analytics.keepDays: got 0; expected a whole number of days from 1 to 3660, such as 90"],
    [{ analytics: { keepDays: 1.5 } }, "studyhost:analytics.keepDays: got 1.5; expected a whole number of days from 1 to 3660, such as 90"],
    [
      { analytics: { schedule: "0 3 * *" } },
      'studyhost:analytics.schedule: got "0 3 * *"; expected a cron spec (minute hour day month weekday) such as "0 3 * * *", or a systemd OnCalendar expression such as daily (a cron spec has 5 fields, this has 4)',
    ],
    [{ analytics: { every: "daily" } }, "studyhost:analytics.every: unknown key; valid keys here are schedule, keepDays"],
    [
      { analytics: {}, app: { kind: "container", name: "analytics", image: "ghcr.io/org/app:1.0" } },
      "studyhost:analytics: got {}; an app is named analytics, and its state folder would be /var/lib/studyhost/analytics, where the daily counts go; rename that app to use studyhost:analytics",
    ],
  ])("%j", (overrides, message) => {
    const m = error(overrides);
    expect(m).toBe(message);
    expect(m).not.toContain("\n");
  });

  test("an OnCalendar schedule and the defaults are accepted", () => {
    expect(parseStudyConfig(studyConfig("aws", "small", { database: { engine: "sqlite" }, analytics: { schedule: "daily" } })).analytics).toEqual({
      schedule: "daily",
      keepDays: 90,
    });
    expect(parseStudyConfig(studyConfig("digitalocean", "small", { database: { engine: "sqlite" }, analytics: {} })).analytics).toEqual({
      schedule: "30 1 * * *",
      keepDays: 90,
    });
  });
});
