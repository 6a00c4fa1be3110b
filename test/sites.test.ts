// Several apps on one host (studyhost:sites) and a staging copy of the app (studyhost:staging), as the
// ViewBovis guide (seed 003) runs its app and the Nextstrain Auspice server side by side behind one
// nginx, with a test instance deployed first. Planned on both clouds, then rendered and read: each
// app's site, unit, env, database and backups, and the rendered provisioning loop run by bash with stub
// steps, which proves staging runs first and a failed staging check skips production's app step. The
// same hosts through the real programs (nginx -t with every site at once, systemd-analyze verify,
// shellcheck, cloud-init schema): test/host/sites.test.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStudyConfig } from "../stacks/config";
import { PlanResult } from "../src/plan";
import { ofType, planOf, refusal, studyConfig } from "./helpers";
import { baselineSnapshots } from "./support/baseline";
import { removeRendered, renderHosts, RenderedHost } from "./support/render";
import { runCaptured } from "./support/processes";
import { ALL_NAMES, APPS, NAMES, siteHostStacks, stubbedProvision, withSites } from "./support/stacks/sites";

jest.setTimeout(120_000);

const plans: Record<string, PlanResult> = {};
beforeAll(async () => {
  plans.do = await planOf(withSites("digitalocean", "large"));
  plans.aws = await planOf(withSites("aws", "large"));
  plans.doTwoServer = await planOf(withSites("digitalocean", "two-server"));
  plans.doPlain = await planOf(studyConfig("digitalocean", "large"));
});

describe("the plan", () => {
  test("DigitalOcean: A, AAAA and CAA records for every name of every app, in the zone", () => {
    const ip = plans.do.outputs.publicIpv4;
    const v6 = plans.do.outputs.publicIpv6;
    const records = ofType(plans.do, "digitalocean:index/dnsRecord:DnsRecord")
      .map((r) => `${r.inputs.domain} ${r.inputs.name} ${r.inputs.type} ${r.inputs.value}`)
      .sort();
    const expected = ALL_NAMES.flatMap((n) => {
      const label = n.slice(0, -".example.org".length);
      return [`example.org ${label} A ${ip}`, `example.org ${label} AAAA ${v6}`, `example.org ${label} CAA letsencrypt.org.`];
    });
    expect(records).toEqual(expected.sort());
    expect(
      (plans.do.outputs.dnsRecords as { name: string }[])
        .map((r) => r.name)
        .filter((n, i, all) => all.indexOf(n) === i)
        .sort(),
    ).toEqual([...ALL_NAMES].sort());
  });

  test("AWS: A and CAA records (no IPv6 there) for every name, in the hosted zone", () => {
    const ip = plans.aws.outputs.publicIpv4;
    const records = ofType(plans.aws, "aws:route53/record:Record")
      .map((r) => `${r.inputs.name} ${r.inputs.type} ${(r.inputs.records as string[]).join(",")}`)
      .sort();
    expect(records).toEqual(ALL_NAMES.flatMap((n) => [`${n} A ${ip}`, `${n} CAA 0 issue "letsencrypt.org"`]).sort());
  });

  test("the outputs list every app's URL", () => {
    for (const plan of [plans.do, plans.aws]) {
      expect(plan.outputs.url).toBe("https://study.example.org/");
      expect(plan.outputs.urls).toEqual({
        study: "https://study.example.org/",
        study_staging: "https://test.study.example.org/",
        nextstrain: "https://nextstrain.study.example.org/",
        dashboard: "https://dashboard.example.org/",
      });
    }
    expect(plans.doPlain.outputs.urls).toBeUndefined();
  });

  test("each extra app gets its own secret key and admin password; staging and the dashboard their own database roles; Auspice none", () => {
    const passwords = ofType(plans.do, "random:index/randomPassword:RandomPassword")
      .map((r) => r.name)
      .sort();
    expect(passwords).toEqual(
      [
        "study-app-secret-key",
        "study-app-admin-password",
        "study-db-app-password",
        "study-db-analyst-password",
        "study-app-study_staging-secret-key",
        "study-app-study_staging-admin-password",
        "study-app-nextstrain-secret-key",
        "study-app-nextstrain-admin-password",
        "study-app-dashboard-secret-key",
        "study-app-dashboard-admin-password",
        "study-db-study_staging-app-password",
        "study-db-study_staging-analyst-password",
        "study-db-dashboard-app-password",
        "study-db-dashboard-analyst-password",
      ].sort(),
    );
  });

  test("adding sites and staging adds resources and changes no existing one's name, type or inputs, except user data the machines ignore", () => {
    const before = new Map(plans.doPlain.resources.map((r) => [r.urn, r]));
    const after = new Map(plans.do.resources.map((r) => [r.urn, r]));
    for (const [urn, r] of before) {
      const now = after.get(urn);
      expect([urn, now !== undefined]).toEqual([urn, true]);
      const changed = Object.keys({ ...r.inputs, ...now!.inputs }).filter((k) => JSON.stringify(r.inputs[k]) !== JSON.stringify(now!.inputs[k]));
      for (const key of changed) expect([r.name, key, now!.options.ignoreChanges ?? []]).toEqual([r.name, key, expect.arrayContaining([key])]);
      // Dependencies may grow (the server's user data now waits for the new apps' secrets too); no other option changes.
      const { dependsOn: was = [], ...options } = r.options as { dependsOn?: readonly string[] };
      const { dependsOn: is = [], ...nowOptions } = now!.options as { dependsOn?: readonly string[] };
      expect(nowOptions).toEqual(options);
      expect(is).toEqual(expect.arrayContaining(was));
      for (const added of is.filter((d) => !was.includes(d)))
        expect([r.name, added]).toEqual([r.name, expect.stringMatching(/RandomPassword::study-(app|db)-(study_staging|nextstrain|dashboard)-/)]);
    }
    // The change is real, and only where it is ignored: the app server's user data.
    const changedNames = [...before].filter(([urn, r]) => JSON.stringify(r.inputs) !== JSON.stringify(after.get(urn)!.inputs)).map(([, r]) => r.name);
    expect(changedNames).toEqual(["study-app-server"]);
  });

  test("a stack without sites or staging plans as before these keys existed (every resource, input but user data, option and output)", async () => {
    // The machines' user data is left out: what a host runs changes with every release of src/host
    // (the host tests check it), and machines ignore changes to it. When the keys were added it was
    // compared too, byte for byte (fixture written from commit 0acacc0).
    // Left out too: what came later for every AWS host, the S3 bucket its files travel in and the
    // role that reads them (src/clouds/awsHostFiles.ts), and the instance's links to them.
    type Snapshot = {
      resources: { type: string; name: string; urn: string; inputs: Record<string, unknown>; options: { dependsOn?: string[] } }[];
      outputs: { cost?: { items: { item: string }[] } };
    };
    const hostFilesDelivery = (r: Snapshot["resources"][number]) =>
      /^aws:(s3|iam)\//.test(r.type) && /-(files|files-private|files-tls-only|role|read-files|profile)$/.test(r.name);
    const withoutUserData = (snapshots: Record<string, Snapshot>) => {
      for (const s of Object.values(snapshots)) {
        // In URN order: the order of registration is the SDK's (the database host's alias, resolved
        // before it registers, moves it), not the plan's.
        s.resources = s.resources.filter((r) => !hostFilesDelivery(r)).sort((a, b) => a.urn.localeCompare(b.urn));
        if (s.outputs.cost) s.outputs.cost.items = s.outputs.cost.items.filter((i) => !i.item.includes("S3 bucket for the host's files"));
        for (const r of s.resources) {
          for (const k of ["userData", "userDataBase64"]) if (k in r.inputs) r.inputs[k] = "(user data)";
          delete r.inputs.iamInstanceProfile;
          if (r.options.dependsOn) r.options.dependsOn = r.options.dependsOn.filter((d) => !/\$aws:(s3|iam)\//.test(d));
        }
      }
      return snapshots;
    };
    // Recorded when the database host's type was PostgresHost; renamed since, with an alias that keeps
    // its state (test/databaseHost.test.ts).
    const fixture = readFileSync(join(__dirname, "fixtures/baseline-plans.json"), "utf8").replaceAll(
      "studyhost:database:PostgresHost",
      "studyhost:database:DatabaseHost",
    );
    const recorded = withoutUserData(JSON.parse(fixture));
    const now = withoutUserData(JSON.parse(JSON.stringify(await baselineSnapshots())));
    expect(Object.keys(now).length).toBe(10);
    expect(now).toEqual(recorded);
  });
});

describe("bad input stops with one line naming the key", () => {
  const errorFor = (overrides: Record<string, unknown>, tier = "large"): string => refusal(studyConfig("digitalocean", tier, overrides));

  const site = (app: Record<string, unknown>, domain = "other.study.example.org", more: Record<string, unknown> = {}) => ({
    domain,
    app: { kind: "container", image: "example/app:1", ...app },
    ...more,
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      "a site app on the app's port",
      { sites: [site({ name: "other", port: 8000 })] },
      "studyhost:sites.0.app.port: got 8000; port 8000 is already used by the app study; give each app its own port, such as 8001",
    ],
    [
      "a site app left on the default port",
      { sites: [site({ name: "other" })] },
      "studyhost:sites.0.app.port: not set, so its default applies; port 8000 is already used by the app study; give each app its own port, such as 8001",
    ],
    [
      "two sites on one port",
      { sites: [site({ name: "one", port: 4001 }), site({ name: "two", port: 4001 }, "two.study.example.org")] },
      "studyhost:sites.1.app.port: got 4001; port 4001 is already used by the app one; give each app its own port, such as 8001",
    ],
    [
      "a site on staging's port",
      { staging: { domain: "test.study.example.org" }, sites: [site({ name: "other", port: 8001 })] },
      "studyhost:sites.0.app.port: got 8001; port 8001 is already used by the app study_staging; give each app its own port, such as 8002",
    ],
    [
      "a site app named like the app",
      { sites: [site({ name: "study", port: 4001 })] },
      'studyhost:sites.0.app.name: got "study"; the name study is already used by the app study (studyhost:app); give each app its own name',
    ],
    [
      "a site app named like the staging copy",
      { staging: { domain: "test.study.example.org" }, sites: [site({ name: "study_staging", port: 4001 })] },
      'studyhost:sites.0.app.name: got "study_staging"; the name study_staging is already used by the app study_staging (studyhost:staging); give each app its own name',
    ],
    [
      "a site on the study's domain",
      { sites: [site({ name: "other", port: 4001 }, "www.study.example.org")] },
      'studyhost:sites.0.domain: got "www.study.example.org"; this name is already served by the app study; each name once',
    ],
    [
      "a site's extra name that another site serves",
      { sites: [site({ name: "one", port: 4001 }), site({ name: "two", port: 4002 }, "two.study.example.org", { extraDomains: ["other.study.example.org"] })] },
      'studyhost:sites.1.extraDomains.0: got "other.study.example.org"; this name is already served by the app one; each name once',
    ],
    [
      "staging on the study's domain",
      { staging: { domain: "study.example.org" } },
      'studyhost:staging.domain: got "study.example.org"; this name is already served by the app study; each name once',
    ],
    [
      "a site outside the DNS zone",
      { sites: [site({ name: "other", port: 4001 }, "nextstrain.example.net")] },
      'studyhost:sites.0.domain: got "nextstrain.example.net"; not inside the DNS zone example.org; expected a name ending in .example.org, or set studyhost:manageDns to false',
    ],
    [
      "staging outside the DNS zone",
      { staging: { domain: "test.example.com" } },
      'studyhost:staging.domain: got "test.example.com"; not inside the DNS zone example.org; expected a name ending in .example.org, or set studyhost:manageDns to false',
    ],
    [
      "an image to stage for a Python app",
      { staging: { domain: "test.study.example.org", image: "example/app:2" } },
      'studyhost:staging.image: got "example/app:2"; the app is a Python app: stage another version with staging.source',
    ],
    [
      "staging's default port taken by PostgreSQL",
      { app: { kind: "python", source: { pip: "x" }, start: "x", port: 5431 }, staging: { domain: "test.study.example.org" } },
      "studyhost:staging.port: missing; expected a port for the staging copy: its default, the app's port + 1 (5432), is used by PostgreSQL",
    ],
    [
      "an app name too long for a staging copy",
      { app: { kind: "python", name: "a_very_long_study_app_name", source: { pip: "x" }, start: "x" }, staging: { domain: "test.study.example.org" } },
      'studyhost:app.name: got "a_very_long_study_app_name"; the staging copy would be named a_very_long_study_app_name_staging, longer than 31 characters; choose an app name of at most 23',
    ],
    [
      "a site's database named like the staging copy's analyst role",
      { staging: { domain: "test.study.example.org" }, sites: [site({ name: "study_staging_analyst", port: 4001 }, undefined, { database: true })] },
      'studyhost:sites.0.app.name: got "study_staging_analyst"; this app\'s database would need the role study_staging_analyst, which the database of the app study_staging already uses; choose another app name',
    ],
    [
      "an unknown key in a site",
      { sites: [{ ...site({ name: "other", port: 4001 }), path: "/x" }] },
      "studyhost:sites.0.path: unknown key; valid keys here are domain, extraDomains, app, database",
    ],
  ])("%s", (_label, overrides, expected) => {
    expect(errorFor(overrides)).toBe(expected);
  });

  test("the ports' check is not fooled by a clash-free study: sites and staging on their own ports pass", () => {
    expect(() => parseStudyConfig(withSites("digitalocean", "large"))).not.toThrow();
  });
});

describe("the rendered hosts", () => {
  let hosts: RenderedHost[];
  let appHosts: RenderedHost[];
  beforeAll(async () => {
    hosts = await renderHosts(siteHostStacks());
    appHosts = hosts.filter((h) => h.host === "study-app");
  });
  afterAll(() => {
    removeRendered(hosts);
  });

  /** Status and output only: what these tests compare whole. */
  const run = (...args: Parameters<typeof runCaptured>) => {
    const { status, output } = runCaptured(...args);
    return { status, output };
  };
  const read = (h: RenderedHost, path: string) => readFileSync(join(h.root, path), "utf8");
  const envOf = (h: RenderedHost, app: string) =>
    Object.fromEntries(
      read(h, `etc/${app}/env`)
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), JSON.parse(l.slice(l.indexOf("=") + 1))]),
    );

  test("on DigitalOcean the user data stays within 64 KiB, its files gzipped", () => {
    expect(hosts.length).toBe(5);
    const doLarge = readFileSync(join(appHosts.find((x) => x.label.startsWith("do-large"))!.dir, "user-data"), "utf8");
    expect(doLarge).toContain("encoding: gz+b64");
    expect(Buffer.byteLength(doLarge)).toBeLessThanOrEqual(64 * 1024);
  });

  test("one nginx site (and holding page) per app, each with its own names", () => {
    for (const h of appHosts) {
      const available = join(h.root, "etc/nginx/sites-available");
      const files = readdirSync(available).sort();
      expect([h.label, files]).toEqual([
        h.label,
        ["studyhost-default.conf", ...APPS.flatMap((a) => [`studyhost-${a}-holding.conf`, `studyhost-${a}.conf`])].sort(),
      ]);
      for (const [app, names] of Object.entries(NAMES)) {
        const text = readFileSync(join(available, `studyhost-${app}.conf`), "utf8");
        expect([h.label, app, [...text.matchAll(/server_name ([^;]+);/g)].map((m) => m[1])]).toEqual([h.label, app, [names.join(" "), names.join(" ")]]);
        expect(text).toContain(`ssl_certificate /etc/letsencrypt/live/${names[0]}/fullchain.pem;`);
      }
      expect(readFileSync(join(available, "studyhost-nextstrain.conf"), "utf8")).toContain("proxy_pass http://127.0.0.1:4001;");
      expect(readFileSync(join(available, "studyhost-study_staging.conf"), "utf8")).toContain("proxy_pass http://127.0.0.1:8001;");
    }
  });

  test("the certificate script gets one certificate per site, named after its first name, with all of its names", () => {
    const script = read(appHosts[0], "usr/local/sbin/studyhost-certificate");
    for (const names of Object.values(NAMES)) {
      expect(script).toContain(`'--cert-name' '${names[0]}' ${names.map((n) => `'-d' '${n}'`).join(" ")} '--server'`);
    }
    expect(script.match(/certbot /g)).toHaveLength(APPS.length);
  });

  test("one unit per app, each app as its own user", () => {
    for (const h of appHosts) {
      const unitDir = join(h.root, "etc/systemd/system");
      const units = readdirSync(unitDir).filter((u) => /\.(service|timer)$/.test(u));
      expect([h.label, APPS.map((a) => units.includes(`${a}.service`))]).toEqual([h.label, APPS.map(() => true)]);
      // Each app runs as its own user, on its own port, from its own folders.
      expect(readFileSync(join(unitDir, "study_staging.service"), "utf8")).toMatch(/^User=study_staging$/m);
      expect(readFileSync(join(unitDir, "dashboard.service"), "utf8")).toMatch(/^User=dashboard$/m);
      expect(readFileSync(join(unitDir, "nextstrain.service"), "utf8")).toContain("--name nextstrain --user ${APP_UID}:${APP_GID} --network host");
    }
  });

  test("each app's env has its own secret key, admin password and port, and its own database URL (none for Auspice)", () => {
    const h = appHosts.find((x) => x.label.startsWith("do-large"))!;
    const env = Object.fromEntries(APPS.map((a) => [a, envOf(h, a)]));
    const placeholder = (n: string) => `plan-placeholder-study-app-${n}`;
    expect(env.study.SECRET_KEY).toBe(placeholder("secret-key"));
    for (const a of ["study_staging", "nextstrain", "dashboard"]) {
      expect(env[a].SECRET_KEY).toBe(placeholder(`${a}-secret-key`));
      expect(env[a].ADMIN_PASSWORD).toBe(placeholder(`${a}-admin-password`));
    }
    expect(new Set(APPS.map((a) => env[a].SECRET_KEY)).size).toBe(4);
    expect(APPS.map((a) => env[a].PORT)).toEqual(["8000", "8001", "4001", "5000"]);
    expect(env.study.DATABASE_URL).toBe("postgresql://study:plan-placeholder-study-db-app-password@localhost:5432/study");
    expect(env.study_staging.DATABASE_URL).toBe("postgresql://study_staging:plan-placeholder-study-db-study_staging-app-password@localhost:5432/study_staging");
    expect(env.dashboard.DATABASE_URL).toBe("postgresql://dashboard:plan-placeholder-study-db-dashboard-app-password@localhost:5432/dashboard");
    expect(env.nextstrain.DATABASE_URL).toBeUndefined();
    // The staging copy runs the version being staged; production keeps its own.
    expect(read(h, "usr/local/sbin/studyhost-deploy-study_staging")).toContain("checkout --quiet --force 'v1.1.0-rc1'");
    expect(read(h, "usr/local/sbin/studyhost-deploy-study")).toContain("checkout --quiet --force 'v1.0.0'");
    // The container's env file for Docker carries its own secret too.
    expect(read(h, "etc/nextstrain/docker.env")).toContain(`SECRET_KEY=${placeholder("nextstrain-secret-key")}\n`);
  });

  test("with SQLite, staging and the dashboard each get their own file, never the study's", () => {
    const h = appHosts.find((x) => x.label.startsWith("do-small-sqlite"))!;
    expect(envOf(h, "study").DATABASE_URL).toBe("sqlite:////var/lib/studyhost/study/study.sqlite3");
    expect(envOf(h, "study_staging").DATABASE_URL).toBe("sqlite:////var/lib/studyhost/study_staging/study_staging.sqlite3");
    expect(envOf(h, "dashboard").DATABASE_URL).toBe("sqlite:////var/lib/studyhost/dashboard/dashboard.sqlite3");
    // The dashboard's file is backed up into a folder of its own; staging's is not backed up.
    expect(read(h, "etc/studyhost/backup.d/dashboard.env")).toContain('BACKUP_DIR="/var/lib/studyhost/backups/dashboard"');
    expect(existsSync(join(h.root, "etc/studyhost/backup.d/study_staging.env"))).toBe(false);
  });

  test("PostgreSQL on the app host: a database and roles per app that has one, admitted only to its own database", () => {
    const h = appHosts.find((x) => x.label.startsWith("do-large"))!;
    const hba = read(h, "etc/studyhost/postgresql/pg_hba.conf");
    for (const db of ["study", "study_staging", "dashboard"]) {
      expect(hba).toContain(`local   ${db}     ${db},${db}_analyst     scram-sha-256`);
    }
    expect(hba).not.toContain("nextstrain");
    expect(read(h, "etc/studyhost/postgres-roles.d/study_staging.env")).toContain('APP_PASSWORD="plan-placeholder-study-db-study_staging-app-password"');
    expect(read(h, "etc/studyhost/postgres-roles.d/dashboard.env")).toContain('DATABASE="dashboard"');
    expect(read(h, "usr/local/sbin/studyhost-postgres-cluster")).toContain(
      "for roles in /etc/studyhost/postgres-roles.d/study_staging.env /etc/studyhost/postgres-roles.d/dashboard.env; do",
    );
    const service = read(h, "etc/systemd/system/studyhost-backup.service");
    expect(service).toContain(`"/usr/bin/env STUDYHOST_BACKUP_ENV=/etc/studyhost/backup.d/dashboard.env /usr/local/sbin/studyhost-backup"`);
    expect(service).not.toContain("study_staging");
  });

  test("two-server: the extra databases live on the database host, reached over TLS", () => {
    const db = hosts.find((x) => x.label === "do-two-server/study-db")!;
    const app = hosts.find((x) => x.label === "do-two-server/study-app")!;
    const hba = read(db, "etc/studyhost/postgresql/pg_hba.conf");
    for (const name of ["study", "study_staging", "dashboard"])
      expect(hba).toMatch(new RegExp(`^hostssl ${name}     ${name}     10\\.\\d+\\.\\d+\\.\\d+/\\d+  scram-sha-256$`, "m"));
    expect(existsSync(join(app.root, "etc/studyhost/postgres-roles.d"))).toBe(false);
    expect(envOf(app, "study_staging").DATABASE_URL).toMatch(
      /^postgresql:\/\/study_staging:plan-placeholder-study-db-study_staging-app-password@10\.\d+\.\d+\.\d+:5432\/study_staging\?sslmode=require$/,
    );
    expect(read(db, "etc/studyhost/backup.d/dashboard.env")).toContain('NAME="dashboard"');
  });

  test("the manifest lists the host's other apps", () => {
    const manifest = JSON.parse(read(appHosts[0], "etc/studyhost/manifest.rendered.json"));
    expect(manifest.apps.map((a: { name: string; role: string; port: number }) => [a.name, a.role, a.port])).toEqual([
      ["study_staging", "staging", 8001],
      ["nextstrain", "site", 4001],
      ["dashboard", "site", 5000],
    ]);
  });

  describe("provisioning: staging first, and production's app only when staging is healthy", () => {
    let dir = "";
    let script = "";
    let h: RenderedHost;
    beforeAll(() => {
      h = appHosts.find((x) => x.label.startsWith("do-large"))!;
      dir = mkdtempSync(join(tmpdir(), "studyhost-provision-"));
      script = stubbedProvision(h, dir);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const provision = (fail: string) => {
      const runlog = join(dir, `run-${fail || "none"}`);
      const r = run("bash", [script], { env: { PATH: process.env.PATH, RUNLOG: runlog, FAIL: fail } });
      return { ...r, ran: readFileSync(runlog, "utf8").trim().split("\n") };
    };

    test("the order: firewall and backups first, staging's install and health check, production's app, the sites, nginx, the health checks", () => {
      const loop = /^for current in ([a-z0-9 _-]+); do$/m.exec(read(h, "usr/local/sbin/studyhost-provision"))![1].split(" ");
      expect(loop).toEqual([
        "base",
        "host-firewall",
        "postgresql",
        "backups",
        "app-study-staging",
        "health-study-staging",
        "app",
        "app-nextstrain",
        "app-dashboard",
        "nginx",
        "certificate",
        "health",
        "health-nextstrain",
        "health-dashboard",
        "manifest",
      ]);
    });

    test("all steps healthy: every step runs, in that order, and the run succeeds", () => {
      const r = provision("");
      expect(r.status).toBe(0);
      expect(r.ran).toEqual([
        "base",
        "host_firewall",
        "postgresql",
        "backups",
        "app_study_staging",
        "health_study_staging",
        "app",
        "app_nextstrain",
        "app_dashboard",
        "nginx",
        "certificate",
        "health",
        "health_nextstrain",
        "health_dashboard",
        "manifest",
      ]);
    });

    test("staging's health check fails: production's app step is skipped and reported, the other steps still run, the run fails", () => {
      const r = provision("health_study_staging");
      expect(r.status).toBe(1);
      expect(r.ran).not.toContain("app");
      expect(r.ran).toEqual(expect.arrayContaining(["app_nextstrain", "nginx", "health", "manifest"]));
      expect(r.output).toContain("== step app SKIPPED: it needs health-study-staging, which failed");
      expect(r.output).toContain("== studyhost-provision FAILED steps: health-study-staging app");
      expect(readFileSync(join(dir, "provision.log"), "utf8")).toContain("== step app SKIPPED");
    });

    test("staging's install fails: production's app step is skipped too", () => {
      const r = provision("app_study_staging");
      expect(r.status).toBe(1);
      expect(r.ran).not.toContain("app");
      expect(r.output).toContain("== step app SKIPPED: it needs app-study-staging, which failed");
    });

    test("a site's failure does not hold production back", () => {
      const r = provision("app_nextstrain");
      expect(r.status).toBe(1);
      expect(r.ran).toContain("app");
      expect(r.output).toContain("== studyhost-provision FAILED steps: app-nextstrain");
    });
  });
});
