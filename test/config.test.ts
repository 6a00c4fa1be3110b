// Bad input never reaches the cloud: each mistake stops with one line naming the key, the value given
// and what is valid, and the program registers no resource.
import * as pulumi from "@pulumi/pulumi";
import { parseStudyConfig } from "../stacks/config";
import { studyMocks } from "../src/plan";
import { asPulumiConfig, PLACEHOLDER_KEY, refusal, studyConfig } from "./helpers";

const base = studyConfig("digitalocean", "small");
const app = base.app as Record<string, unknown>;

function errorFor(overrides: Record<string, unknown>, cloud: "digitalocean" | "aws" = "digitalocean"): string {
  return refusal({ ...studyConfig(cloud, "small"), ...overrides });
}

describe("the one-line error names the key, the value and what is valid", () => {
  test.each<[string, Record<string, unknown>, string]>([
    ["unknown tier", { tier: "medium" }, 'studyhost:tier: got "medium"; expected one of small, large, two-server'],
    ["unknown cloud", { cloud: "gcp" }, 'studyhost:cloud: got "gcp"; expected one of digitalocean, aws'],
    [
      "sqlite beyond small",
      { tier: "large", database: { engine: "sqlite" } },
      'studyhost:database.engine: got "sqlite"; sqlite is allowed only on the small tier; the large tier takes postgres or none',
    ],
    [
      "sqlite on two-server",
      { tier: "two-server", database: { engine: "sqlite" } },
      'studyhost:database.engine: got "sqlite"; sqlite is allowed only on the small tier; the two-server tier takes postgres or none',
    ],
    [
      "malformed domain",
      { domain: "study_site.example.org" },
      'studyhost:domain: got "study_site.example.org"; expected a DNS name of letters, digits and inner hyphens, such as study.example.org',
    ],
    ["single-label domain", { domain: "localhost" }, 'studyhost:domain: got "localhost"; expected a fully qualified DNS name such as study.example.org'],
    [
      "malformed extra name",
      { extraDomains: ["www..example.org"] },
      'studyhost:extraDomains.0: got "www..example.org"; expected a DNS name of letters, digits and inner hyphens, such as study.example.org',
    ],
    [
      "malformed email",
      { adminEmail: "it-at-example.org" },
      'studyhost:adminEmail: got "it-at-example.org"; expected an email address such as research-it@example.org',
    ],
    [
      "malformed CIDR",
      { adminCidrs: ["203.0.113.0/33"] },
      'studyhost:adminCidrs.0: got "203.0.113.0/33"; expected an IPv4 or IPv6 CIDR block such as 203.0.113.0/24 or 2001:db8::/48',
    ],
    [
      "SSH open to all IPv4",
      { adminCidrs: ["0.0.0.0/0"] },
      'studyhost:adminCidrs.0: got "0.0.0.0/0"; this opens SSH and the admin paths to the whole internet (or a large share of it); list your own networks, or set studyhost:allowSshFromAnywhere to true',
    ],
    [
      "SSH open to all IPv6",
      { adminCidrs: ["203.0.113.0/24", "::/0"] },
      'studyhost:adminCidrs.1: got "::/0"; this opens SSH and the admin paths to the whole internet (or a large share of it); list your own networks, or set studyhost:allowSshFromAnywhere to true',
    ],
    [
      "half the internet",
      { adminCidrs: ["0.0.0.0/1", "128.0.0.0/1"] },
      'studyhost:adminCidrs.0: got "0.0.0.0/1"; this opens SSH and the admin paths to the whole internet (or a large share of it); list your own networks, or set studyhost:allowSshFromAnywhere to true',
    ],
    [
      "a CIDR with host bits",
      { adminCidrs: ["203.0.113.5/24"] },
      'studyhost:adminCidrs.0: got "203.0.113.5/24"; 203.0.113.5/24 has host bits set; did you mean 203.0.113.0/24?',
    ],
    [
      "an IPv6 CIDR with host bits",
      { adminCidrs: ["2001:db8:1::5/48"] },
      'studyhost:adminCidrs.0: got "2001:db8:1::5/48"; 2001:db8:1::5/48 has host bits set; did you mean 2001:db8:1::/48?',
    ],
    [
      "a name outside the DNS zone",
      { extraDomains: ["study.example.net"] },
      'studyhost:extraDomains.0: got "study.example.net"; not inside the DNS zone example.org; expected a name ending in .example.org, or set studyhost:manageDns to false',
    ],
    [
      "a name listed twice",
      { extraDomains: ["study.example.org"] },
      'studyhost:extraDomains.0: got "study.example.org"; this name is already listed; each name once',
    ],
    [
      "a zone that does not hold the domain",
      { dnsZone: "example.net" },
      'studyhost:dnsZone: got "example.net"; the domain study.example.org is not inside this zone; expected example.org or another parent of the domain',
    ],
    [
      "a secret in the app's environment is never echoed",
      { app: { ...app, env: { api_key: "hunter2" } } },
      "studyhost:app.env.api_key: got a value of 7 characters (not shown); expected upper-case environment variable names with string values (NAME: value)",
    ],
    [
      "credentials in a git URL are never echoed",
      { app: { ...app, source: { git: "https://user:token@git.example.org/x.git" } } },
      'studyhost:app.source: got {"git":"https://***@git.example.org/x.git"}; expected either { git: URL, ref: tag } or { pip: requirement }',
    ],
    [
      "size below the floor",
      { sizes: { app: "s-1vcpu-512mb-10gb" } },
      'studyhost:sizes.app: got "s-1vcpu-512mb-10gb"; 1 vCPU / 0.5 GB RAM is below the small tier\'s floor (1 vCPU, 1 GB RAM, 10 GB storage); expected one of s-1vcpu-1gb, s-1vcpu-2gb, s-2vcpu-2gb, s-2vcpu-4gb, s-4vcpu-8gb',
    ],
    [
      "unknown size",
      { sizes: { app: "s-64vcpu" } },
      'studyhost:sizes.app: got "s-64vcpu"; not a digitalocean size studyhost knows; expected one of s-1vcpu-1gb, s-1vcpu-2gb, s-2vcpu-2gb, s-2vcpu-4gb, s-4vcpu-8gb',
    ],
    ["volume below the floor", { volumes: { appGb: 5 } }, "studyhost:volumes.appGb: got 5; expected from 10 GB (the small tier's floor) to 16384 GB"],
    [
      "region the cloud lacks",
      { region: "us-east-1" },
      'studyhost:region: got "us-east-1"; digitalocean has no such region; expected one of ams3, atl1, blr1, fra1, lon1, nyc1, nyc2, nyc3, sfo2, sfo3, sgp1, syd1, tor1',
    ],
    [
      "nginx's port",
      { app: { ...app, port: 443 } },
      "studyhost:app.port: got 443; port 443 is used by nginx (https) on the host; choose another port from 1024 to 65535, such as 8000",
    ],
    [
      "PostgreSQL's port",
      { app: { ...app, port: 5432 } },
      "studyhost:app.port: got 5432; port 5432 is used by PostgreSQL on the host; choose another port from 1024 to 65535, such as 8000",
    ],
    [
      "a privileged port",
      { app: { ...app, port: 81 } },
      "studyhost:app.port: got 81; expected a port from 1024 to 65535 (the app runs without root), such as 8000",
    ],
    [
      "not a public key",
      { sshKeys: ["ssh-rsa hello"] },
      'studyhost:sshKeys.0: got "ssh-rsa hello"; expected one OpenSSH public key line starting with ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256 or another OpenSSH key type',
    ],
    [
      "a private key",
      { sshKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"] },
      "studyhost:sshKeys.0: got a private key; this is a PRIVATE key: give the public key (the .pub file) and keep the private key secret",
    ],
    [
      "a key body of another type",
      { sshKeys: [PLACEHOLDER_KEY.replace("ssh-ed25519", "ssh-rsa")] },
      expect.stringMatching(
        /^studyhost:sshKeys\.0: got .*; the key body does not encode a ssh-rsa key; copy the whole line from the \.pub file$/,
      ) as unknown as string,
    ],
    [
      "a misspelt key",
      { teir: "small" },
      "studyhost:teir: unknown key; valid keys here are cloud, region, tier, domain, extraDomains, dnsZone, manageDns, adminEmail, adminCidrs, allowSshFromAnywhere, adminUser, sshKeys, app, sites, staging, database, backups, logsOnDataVolume, accessories, offsiteSecretAccessKey, jobs, fetch, fetchSecretAccessKeys, analytics, powerSchedule, sizes, volumes, tls",
    ],
    ["an unknown app kind", { app: { ...app, kind: "php" } }, 'studyhost:app.kind: got "php"; expected an app with kind: python or kind: container'],
    [
      "an app without a source",
      { app: { kind: "python", start: "x" } },
      "studyhost:app.source: missing; expected either { git: URL, ref: tag } or { pip: requirement }",
    ],
    ["keepDaily of none", { backups: { keepDaily: 0 } }, "studyhost:backups.keepDaily: got 0; expected a whole number from 1 to 366"],
    ["keepWeekly as text", { backups: { keepWeekly: "4" } }, 'studyhost:backups.keepWeekly: got "4"; expected a whole number from 0 to 520'],
    ["keepMonthly as a fraction", { backups: { keepMonthly: 1.5 } }, "studyhost:backups.keepMonthly: got 1.5; expected a whole number from 0 to 1200"],
    [
      "one SSH key on the key's own line (a string, not a list)",
      { sshKeys: PLACEHOLDER_KEY },
      `studyhost:sshKeys: got ${JSON.stringify(PLACEHOLDER_KEY).slice(0, 77)}...; expected a list of OpenSSH public keys, even of one: [ssh-ed25519 AAAA... you@laptop]`,
    ],
    [
      "one admin network as a string",
      { adminCidrs: "203.0.113.0/24" },
      'studyhost:adminCidrs: got "203.0.113.0/24"; expected a list of CIDR blocks, even of one: [203.0.113.0/24]',
    ],
    ["a volume size as text", { volumes: { appGb: "20" } }, 'studyhost:volumes.appGb: got "20"; expected a whole number of GB, such as 50'],
    [
      "a volume size as a fraction",
      { tier: "two-server", volumes: { databaseGb: 60.5 } },
      "studyhost:volumes.databaseGb: got 60.5; expected a whole number of GB, such as 50",
    ],
    [
      "a machine size as a number",
      { sizes: { app: 2 } },
      "studyhost:sizes.app: got 2; expected a machine size of the cloud, such as s-2vcpu-4gb (digitalocean) or t3.medium (aws)",
    ],
    // Keys without a message of their own: zod's wording ("Invalid input: expected array, received string") in ours, with the key's description.
    [
      "pip packages as a string",
      { app: { ...app, packages: "gunicorn" } },
      'studyhost:app.packages: got "gunicorn"; expected a list: extra pip requirements, e.g. gunicorn, psycopg2-binary',
    ],
    [
      "manageDns as a word",
      { manageDns: "no" },
      'studyhost:manageDns: got "no"; expected true or false: create the DNS records (default true); false prints them instead',
    ],
    [
      "a request body limit of zero",
      { app: { ...app, maxBodyMb: 0 } },
      "studyhost:app.maxBodyMb: got 0; expected a whole number of MB from 1 to 10240, such as 10",
    ],
    [
      "an empty list of proxied paths",
      { app: { ...app, frontend: { git: "https://git.example.org/lab/web.git", ref: "v1", apiPaths: [] } } },
      "studyhost:app.frontend.apiPaths: got []; expected at least 1 entry: the paths proxied to the app (default [/api]); everything else is served from the front end",
    ],
    [
      "backups as a word",
      { backups: "daily" },
      'studyhost:backups: got "daily"; expected a map of keys and values: { schedule?, keepDaily?, keepWeekly?, keepMonthly?, offsite? }',
    ],
    // An unknown key inside the app lists the keys of the object it is in, not the app's.
    [
      "a misspelt key in the app's static folder",
      { app: { ...app, static: { dir: "app/static", url: "/static" } } },
      "studyhost:app.static.url: unknown key; valid keys here are urlPath, dir",
    ],
    [
      "a misspelt key in a container volume",
      { app: { kind: "container", image: "ghcr.io/example/app:1.0", port: 3000, volumes: [{ name: "data", containerPath: "/data", ro: true }] } },
      "studyhost:app.volumes.0.ro: unknown key; valid keys here are name, containerPath, readOnly",
    ],
    [
      "an app named as one of the host's users (it would run as PostgreSQL's superuser)",
      { app: { ...app, name: "postgres" } },
      'studyhost:app.name: got "postgres"; the host already uses the name postgres (a system user or folder): choose another, such as study',
    ],
    [
      "a site's app named as a folder on the data volume",
      { sites: [{ domain: "other.example.org", app: { ...app, name: "logs" } }] },
      'studyhost:sites.0.app.name: got "logs"; the host already uses the name logs (a system user or folder): choose another, such as study',
    ],
    [
      "an admin user with the app's name",
      { adminUser: "study" },
      'studyhost:adminUser: got "study"; the app study (studyhost:app) has this name, and each app runs as a user of its name: choose another admin user, such as studyadmin',
    ],
    [
      "logsOnDataVolume as a word",
      { logsOnDataVolume: "yes" },
      expect.stringMatching(/^studyhost:logsOnDataVolume: got "yes"; expected true or false/) as unknown as string,
    ],
    [
      "a database size on a one-host tier",
      { sizes: { database: "s-2vcpu-2gb" } },
      'studyhost:sizes.database: got "s-2vcpu-2gb"; the small tier has no database host; only the two-server tier takes sizes.database',
    ],
  ])("%s", (_label, overrides, expected) => {
    expect(errorFor(overrides)).toEqual(expected);
  });

  test("a missing required key says what it needs", () => {
    const { domain: _d, ...withoutDomain } = base;
    expect(() => parseStudyConfig(withoutDomain)).toThrow("studyhost:domain: missing; expected a DNS name such as study.example.org");
  });

  test("AWS regions and sizes are checked against AWS's lists", () => {
    expect(errorFor({ region: "fra1" }, "aws")).toMatch(/^studyhost:region: got "fra1"; aws has no such region; expected one of af-south-1, /);
    expect(errorFor({ tier: "large", sizes: { app: "t3.small" } }, "aws")).toMatch(
      /^studyhost:sizes\.app: got "t3\.small"; 2 vCPU \/ 2 GB RAM is below the large tier's floor .*expected one of t4g\.medium, t3\.medium$/,
    );
  });
});

describe("valid input", () => {
  test("defaults are filled in and the cheapest size meeting the floor is chosen", () => {
    const c = parseStudyConfig(base);
    expect(c.region).toBe("nyc3");
    expect(c.dnsZone).toBe("example.org");
    expect(c.database).toEqual({ engine: "postgres", name: "study" });
    expect(c.backups).toMatchObject({ keepDaily: 7, keepWeekly: 4, keepMonthly: 6 });
    expect(c.hosts.app.size.slug).toBe("s-1vcpu-1gb");
    expect(c.hosts.app.volumeGb).toBe(10);
    expect(c.tls.acmeDirectory).toBe("https://acme-v02.api.letsencrypt.org/directory");
  });

  test("a bare address is read as one host; the whole internet is accepted only with the opt-in key", () => {
    expect(parseStudyConfig({ ...base, adminCidrs: ["198.51.100.7"] }).adminCidrs).toEqual(["198.51.100.7/32"]);
    expect(parseStudyConfig({ ...base, adminCidrs: ["0.0.0.0/0"], allowSshFromAnywhere: true }).adminCidrs).toEqual(["0.0.0.0/0"]);
  });

  test("a container app and an arm64 size override are accepted", () => {
    const c = parseStudyConfig({
      ...studyConfig("aws", "large"),
      sizes: { app: "t4g.medium" },
      app: { kind: "container", image: "ghcr.io/example/app:1.0", port: 3000, volumes: [{ name: "data", containerPath: "/data" }] },
    });
    expect(c.hosts.app.size).toMatchObject({ slug: "t4g.medium", arch: "arm64" });
  });
});

describe("a bad configuration creates nothing", () => {
  test("the stack program stops before registering any resource", async () => {
    const registered: string[] = [];
    pulumi.runtime.setAllConfig(asPulumiConfig({ ...base, tier: "medium" }));
    await pulumi.runtime.setMocks(
      { newResource: (args) => (registered.push(args.type), studyMocks.newResource(args)), call: studyMocks.call },
      "studyhost",
      "bad",
      false,
    );
    const { studyProgram } = await import("../stacks/program");
    // The program reads and checks its config before constructing anything: it throws synchronously.
    expect(() => studyProgram()).toThrow(/^studyhost:tier: got "medium"/);
    await new Promise((r) => setTimeout(r, 50));
    expect(registered).toEqual([]);
  });
});
