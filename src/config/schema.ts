// The study's configuration, Pulumi config namespace `studyhost`: every key, its default and its limits
// in one place. zod (chosen because it gives typed output, defaults and per-key errors from a single
// declaration) checks it before any resource exists. Each key's `.describe()` text is what error
// messages offer as the valid alternative, and what the README's configuration reference repeats.
// The rules that tie one key to another are in ./rules.ts, which reads the keys through ./apps.ts.
import { z } from "zod";
import { CLOUDS, TIERS } from "../tiers";
import { ConfigFileSchema, FrontendSchema } from "./appFiles";
import { AnalyticsSchema } from "./analytics";
import { PowerScheduleSchema } from "./powerSchedule";
import { bucketName, fetchSecretAccessKeys, FetchSchema, JobSchema } from "./scheduled";
import { domainProblem, hostBitsProblem, listOf, parseCidr, slug, sshPublicKeyProblem, wholeNumber } from "./validators";

/** A string checked by a function that explains what is wrong. */
/** Where the study's own data lives: studyhost:database.engine's values. */
export const DATABASE_ENGINES = ["postgres", "sqlite", "none"] as const;

const checked = (problem: (v: string) => string | undefined, description: string) =>
  z
    .string({ error: `expected ${description}` })
    .superRefine((value, ctx) => {
      const why = problem(value);
      if (why) ctx.addIssue({ code: "custom", message: why });
    })
    .describe(description);

/** A machine size override; whether the cloud has it, and whether it meets the tier's floor, is checked below. */
const machineSize = z.string({ error: "expected a machine size of the cloud, such as s-2vcpu-4gb (digitalocean) or t3.medium (aws)" });

/** A volume size: a whole number of GB; its range depends on the tier (checkVolume, below). */
const volumeGb = z.number({ error: "expected a whole number of GB, such as 50" }).int({ error: "expected a whole number of GB, such as 50" });

const domainName = checked(domainProblem, "a DNS name such as study.example.org");
const cidr = checked((v) => {
  const parsed = parseCidr(v);
  return parsed ? hostBitsProblem(parsed) : "expected an IPv4 or IPv6 CIDR block such as 203.0.113.0/24 or 2001:db8::/48";
}, "a CIDR block such as 203.0.113.0/24").transform((v) => parseCidr(v)?.text ?? v);
const sshKey = checked(sshPublicKeyProblem, "an OpenSSH public key line such as 'ssh-ed25519 AAAA... you@laptop'");
const urlPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._~\/-]*$/, "expected a URL path starting with /, such as /admin")
  .describe("a URL path such as /admin");
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "expected an upper-case environment variable name");
const env = z
  .record(envName, z.string(), { error: "expected upper-case environment variable names with string values (NAME: value)" })
  .default({})
  .describe("environment variables as NAME: value");
const commands = z.array(z.string().min(1)).default([]).describe("shell commands, run in order");

/** Ports that the host's own services hold; an app listening there would fail or take their place. */
const RESERVED_PORTS: Record<number, string> = { 22: "SSH", 80: "nginx (http)", 443: "nginx (https)", 5432: "PostgreSQL" };
const appPortNumber = z
  .number({ error: "expected a port number from 1024 to 65535" })
  .int()
  .superRefine((port, ctx) => {
    if (RESERVED_PORTS[port]) {
      ctx.addIssue({
        code: "custom",
        message: `port ${port} is used by ${RESERVED_PORTS[port]} on the host; choose another port from 1024 to 65535, such as 8000`,
      });
    } else if (port < 1024 || port > 65535) {
      ctx.addIssue({ code: "custom", message: "expected a port from 1024 to 65535 (the app runs without root), such as 8000" });
    }
  });
const appPort = appPortNumber.default(8000).describe("the port the app listens on, on 127.0.0.1 (default 8000)");

/**
 * Names an app cannot take: its name becomes a system user, /etc/<name>, /var/log/<name> and a folder on
 * the data volume, and these belong to the host already (its users, nginx's and the journal's log
 * folders, studyhost's own folders on the volume). An app named postgres would run as PostgreSQL's
 * superuser; one named ssh would take /etc/ssh. Not every name can be foreseen: the app step also refuses
 * a user of the app's name that studyhost did not make (src/host/apps/service.ts).
 */
export const RESERVED_APP_NAMES = [
  // Users and groups of Debian 12's and Ubuntu 24.04's cloud images (and their default login users).
  ...["root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "backup", "list", "irc", "nobody"],
  ...["adm", "sudo", "staff", "users", "disk", "postgres", "mysql", "sshd", "systemd", "messagebus", "syslog", "uuidd", "tcpdump", "tss", "debian", "ubuntu"],
  // Folders of /etc and /var/log that the host's packages own.
  ...["nginx", "journal", "ssh", "ssl", "security", "default", "network", "cloud", "dpkg", "apt", "docker", "letsencrypt", "fail2ban", "chrony"],
  ...["postgresql", "mariadb", "mongodb", "private", "installer", "landscape", "amazon"],
  // (analytics is refused only with studyhost:analytics on: ./analytics.ts.)
  ...["studyhost", "backups", "logs"],
] as const;
const appName = slug.refine((n) => !(RESERVED_APP_NAMES as readonly string[]).includes(n), {
  error: (issue) => `the host already uses the name ${String(issue.input)} (a system user or folder): choose another, such as study`,
});

const appCommon = {
  /** A short name: the service user, /srv/<name>, /etc/<name>, the systemd unit. */
  name: appName.default("study"),
  port: appPort,
  env,
  healthPath: urlPath.default("/").describe("the path that answers 200 when the app is up (default /)"),
  adminPaths: z.array(urlPath).default(["/admin"]).describe("paths only adminCidrs may reach (default [/admin])"),
  maxBodyMb: wholeNumber(1, 10240, " of MB", 10).default(10).describe("the largest request body nginx accepts, in MB (default 10)"),
  configFiles: z.array(ConfigFileSchema).default([]).describe("configuration files rendered into /etc/<app> with the app's env (secrets included)"),
};

const pythonSource = z.union(
  [
    z.object({ git: z.string().min(1).describe("a git URL"), ref: z.string().min(1).describe("a tag, branch or commit") }).strict(),
    z.object({ pip: z.string().min(1).describe("a pip requirement such as bride-of-frankensystem==1.2") }).strict(),
  ],
  { error: "expected either { git: URL, ref: tag } or { pip: requirement }" },
);

export const PythonAppSchema = z
  .object({
    kind: z.literal("python"),
    ...appCommon,
    source: pythonSource.describe("{ git: URL, ref: tag } or { pip: requirement }"),
    packages: z.array(z.string().min(1)).default([]).describe("extra pip requirements, e.g. gunicorn, psycopg2-binary"),
    aptPackages: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9.+-]+$/, "expected a Debian/Ubuntu package name such as python3-psycopg2"))
      .default([])
      .describe("distribution packages the app needs (libraries, or gunicorn itself), installed with the host's packages"),
    systemSitePackages: z.boolean().default(false).describe("let the venv see the distribution's Python packages (from aptPackages); default false"),
    pipIndexUrl: z
      .string()
      .regex(/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]+)?(\/[A-Za-z0-9._~\/%+-]*)?$/, "expected a package index URL such as https://pypi.example.edu/simple")
      .optional()
      .describe("the package index the deploy step's pip installs from (PIP_INDEX_URL), e.g. an institution's mirror; default PyPI"),
    start: z.string().min(1).describe("the start command, run in the app's venv, e.g. 'gunicorn -b 127.0.0.1:${PORT} app:app'"),
    static: z
      .object({ urlPath: urlPath.default("/static"), dir: z.string().min(1).describe("the folder, relative to the code") })
      .strict()
      .optional()
      .describe("static files nginx serves from disk"),
    setup: commands,
    migrate: commands,
    frontend: FrontendSchema.optional(),
  })
  .strict();

export const ContainerAppSchema = z
  .object({
    kind: z.literal("container"),
    ...appCommon,
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._\/:@-]*$/i, "expected an image reference such as ghcr.io/org/app:1.0")
      .describe("a container image such as ghcr.io/org/app:1.0"),
    command: z.array(z.string()).optional().describe("overrides the image's command"),
    volumes: z
      .array(z.object({ name: slug, containerPath: z.string().regex(/^\//, "expected an absolute path"), readOnly: z.boolean().default(false) }).strict())
      .default([])
      .describe("folders on the data volume mounted into the container"),
    network: z
      .enum(["host", "private"], { error: "expected host or private" })
      .default("host")
      .describe(
        "host (default): the host's network, as before; private: the studyhost Docker network, where accessories such as mongodb are reached by name, with the app's port published on 127.0.0.1 only",
      ),
  })
  .strict();

export const AppSchema = z.discriminatedUnion("kind", [PythonAppSchema, ContainerAppSchema], {
  error: "expected an app with kind: python or kind: container",
});

// --- More apps on the host: extra sites by server name, and a staging copy of the primary app. ---
// (One block, with its cross-key checks in ./apps.ts: `studyApps` lists every app the host runs.)

export const SiteSchema = z
  .object({
    domain: domainName.describe("the DNS name this site's app is served at, e.g. nextstrain.study.example.org"),
    extraDomains: z.array(domainName).default([]).describe("more DNS names served by this site's app"),
    app: AppSchema.describe("the site's app, with the same keys as studyhost:app (its own name and port)"),
    database: z
      .boolean({ error: "expected true or false" })
      .default(false)
      .describe("give this app a database of its own (PostgreSQL: its own database and roles on the study's server; SQLite: its own file); default false"),
  })
  .strict();

export const StagingSchema = z
  .object({
    domain: domainName.describe("the DNS name of the staging copy, e.g. test.study.example.org"),
    source: pythonSource.optional().describe("the version to stage of a Python app: { git: URL, ref: tag } or { pip: requirement } (default: production's)"),
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._\/:@-]*$/i, "expected an image reference such as ghcr.io/org/app:1.1")
      .optional()
      .describe("the image to stage of a container app (default: production's)"),
    port: appPortNumber.optional().describe("the staging copy's port on 127.0.0.1 (default: the app's port + 1)"),
    env: env.describe("environment variables that replace production's in the staging copy, as NAME: value"),
  })
  .strict();

const moreApps = {
  sites: z.array(SiteSchema).default([]).describe("more apps on the same host, each served at its own DNS names"),
  staging: StagingSchema.optional().describe("a staging copy of the app, deployed and checked before production"),
};
// --- end of sites and staging ---

// --- Operations: access-log analytics and the app host's power schedule (./analytics.ts, ./powerSchedule.ts). ---
const operations = {
  analytics: AnalyticsSchema.optional().describe(
    "count each day's requests per path and status code from every site's nginx access log into /var/lib/studyhost/analytics/<site>/<YYYY-MM-DD>.json: { schedule?, keepDays? }",
  ),
  powerSchedule: PowerScheduleSchema.optional().describe(
    'start and stop the app host on a schedule, on aws only (a stopped EC2 instance\'s compute is not billed): { on, off, timezone? } with cron specs such as on: "0 8 * * mon-fri", off: "0 22 * * mon-fri"',
  ),
};
// --- end of operations ---

const BackupsSchema = z
  .object({
    schedule: z
      .string()
      .regex(/^[A-Za-z0-9*:\/ ,.~-]+$/, "expected a systemd OnCalendar expression such as daily or *-*-* 03:15:00")
      .default("*-*-* 03:15:00")
      .describe("when backups run, as systemd OnCalendar (default *-*-* 03:15:00)"),
    keepDaily: wholeNumber(1, 366).default(7).describe("daily backups kept (default 7)"),
    keepWeekly: wholeNumber(0, 520).default(4).describe("weekly backups kept (default 4)"),
    keepMonthly: wholeNumber(0, 1200).default(6).describe("monthly backups kept (default 6)"),
    offsite: z
      .object({
        bucket: bucketName,
        endpoint: z.url().optional().describe("an S3-compatible endpoint, e.g. https://fra1.digitaloceanspaces.com"),
        region: z.string().optional(),
        accessKeyId: z.string().min(1).describe("the bucket's access key id (its secret goes in studyhost:offsiteSecretAccessKey)"),
      })
      .strict()
      .optional()
      .describe("a bucket (Spaces or S3) that receives a copy of every backup"),
  })
  .strict()
  .default({ schedule: "*-*-* 03:15:00", keepDaily: 7, keepWeekly: 4, keepMonthly: 6 })
  .describe("{ schedule?, keepDaily?, keepWeekly?, keepMonthly?, offsite? }");

// --- Accessory databases beside (or instead of) PostgreSQL (src/host/databases/accessories.ts): MongoDB on the app
// host, MariaDB where the tier keeps its databases (the app host, or two-server's database host). ---
const imageRef = z.string().regex(/^[a-z0-9][a-z0-9._\/:@-]*$/i, "expected an image reference such as mongo:7.0 or mongo@sha256:...");
/** The default MongoDB image: a tag, which moves; pin it by digest (mongo:7.0@sha256:...) for production. */
export const DEFAULT_MONGODB_IMAGE = "mongo:7.0";
const AccessoriesSchema = z
  .object({
    /**
     * MariaDB from the distribution, for the primary app (MARIADB_URL). Small and large: on the app
     * host, 127.0.0.1 only. Two-server: on the database host (with PostgreSQL, or alone with
     * `database.engine: none`), listening on the private network too, the app user admitted only from
     * the private network and only over TLS, 3306 open to the app host only; its backups run there.
     */
    mariadb: z
      .object({
        database: slug.optional().describe("the database name (default: the app's name); its app user has the same name, its read-only user <name>_analyst"),
      })
      .strict()
      .optional()
      .describe(
        "MariaDB from the distribution: on the app host on 127.0.0.1 only (small, large), or on the database host (two-server), where it listens on the private network, admits the app user only from there and only over TLS: { database? }",
      ),
    mongodb: z
      .object({
        image: imageRef.default(DEFAULT_MONGODB_IMAGE).describe(`the MongoDB image (default ${DEFAULT_MONGODB_IMAGE}, a tag: pin it by digest)`),
        database: slug.optional().describe("the database name (default: the app's name); its app user has the same name"),
      })
      .strict()
      .optional()
      .describe("MongoDB in a container on the app host's private Docker network, no published port: { image?, database? }"),
  })
  .strict()
  .default({});
// --- end of accessories ---

/** Let's Encrypt's production ACME directory: the default certificate authority. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

export const StudyConfigObject = z
  .object({
    cloud: z.enum(CLOUDS, { error: `expected one of ${CLOUDS.join(", ")}` }).describe(`one of ${CLOUDS.join(", ")}`),
    region: z.string().optional().describe("a region of the cloud (default nyc3 on digitalocean, us-east-1 on aws)"),
    tier: z.enum(TIERS, { error: `expected one of ${TIERS.join(", ")}` }).describe(`one of ${TIERS.join(", ")}`),
    domain: domainName,
    extraDomains: listOf(domainName, "DNS names", "www.study.example.org").default([]).describe("more DNS names served by the same app"),
    dnsZone: domainName.optional().describe("the DNS zone holding the records (default: the domain minus its first label)"),
    manageDns: z.boolean().default(true).describe("create the DNS records (default true); false prints them instead"),
    adminEmail: z.email({ error: "expected an email address such as research-it@example.org" }).describe("an email address"),
    adminCidrs: listOf(cidr, "CIDR blocks", "203.0.113.0/24")
      .min(1, "expected at least one CIDR block, such as your office's 203.0.113.0/24")
      .describe("CIDR blocks allowed to use SSH and the admin paths"),
    allowSshFromAnywhere: z.boolean().default(false).describe("set true to accept 0.0.0.0/0 or ::/0 in adminCidrs (default false)"),
    adminUser: slug.default("studyadmin").describe("the sudo user that the SSH keys log in as (default studyadmin)"),
    sshKeys: listOf(sshKey, "OpenSSH public keys", "ssh-ed25519 AAAA... you@laptop")
      .min(1, "expected at least one OpenSSH public key")
      .describe("OpenSSH public keys"),
    app: AppSchema,
    ...moreApps,
    database: z
      .object({
        engine: z
          .enum(DATABASE_ENGINES, { error: "expected postgres, sqlite or none" })
          .default("postgres")
          .describe(
            "postgres (default), sqlite (small tier), or none: the app keeps its data only in accessory databases (accessories.mariadb / mongodb), so no PostgreSQL runs and no DATABASE_URL is set",
          ),
        name: slug.optional().describe("the database name (default: the app's name)"),
      })
      .strict()
      .default({ engine: "postgres" }),
    backups: BackupsSchema,
    logsOnDataVolume: z
      .boolean({ error: "expected true or false" })
      .default(false)
      .describe(
        "put the journal, nginx's logs and each app's /var/log/<app> on the data volume, where the volume's encryption at rest covers them (default false: the boot disk, encrypted on aws, not on digitalocean)",
      ),
    accessories: AccessoriesSchema.describe("accessory databases for the app, beside (or instead of) PostgreSQL: { mariadb?, mongodb? }"),
    offsiteSecretAccessKey: z.string().min(1).optional().describe("the offsite bucket's secret access key: set it with `pulumi config set --secret`"),
    jobs: z
      .array(JobSchema)
      .default([])
      .describe("commands run on a schedule as an app (a daily analysis, a periodic push): each { name, schedule, command, app?, timeoutMinutes? }"),
    fetch: z
      .array(FetchSchema)
      .default([])
      .describe(
        "buckets mirrored into the app's state at every boot, before the app starts: each { name, bucket, dest, prefix?, endpoint?, region?, accessKeyId?, app?, every? }",
      ),
    fetchSecretAccessKeys,
    ...operations,
    sizes: z
      .object({ app: machineSize.optional(), database: machineSize.optional() })
      .strict()
      .default({})
      .describe("machine sizes that replace the tier's cheapest fit"),
    volumes: z
      .object({ appGb: volumeGb.optional(), databaseGb: volumeGb.optional() })
      .strict()
      .default({})
      .describe("data volume sizes in GB (default: the tier's storage floor)"),
    tls: z
      .object({
        acmeDirectory: z.url().default(LETS_ENCRYPT_DIRECTORY).describe(`the ACME directory URL (default Let's Encrypt: ${LETS_ENCRYPT_DIRECTORY})`),
        caBundle: z
          .string()
          .includes("BEGIN CERTIFICATE", { message: "expected a PEM certificate bundle" })
          .optional()
          .describe("an extra CA bundle (PEM) that certbot trusts"),
      })
      .strict()
      .default({ acmeDirectory: LETS_ENCRYPT_DIRECTORY }),
  })
  .strict();

/** study.example.org lives in the zone example.org; example.org is its own zone. */
export function defaultZone(domain: string): string {
  const labels = domain.split(".");
  return labels.length > 2 ? labels.slice(1).join(".") : domain;
}

// The refinements (./rules.ts) change no type: the object's input and output are the schema's.
export type StudyConfigInput = z.input<typeof StudyConfigObject>;
export type ParsedStudyConfig = z.output<typeof StudyConfigObject>;
export type AppConfig = z.output<typeof AppSchema>;
export type PythonAppConfig = z.output<typeof PythonAppSchema>;
export type ContainerAppConfig = z.output<typeof ContainerAppSchema>;
export type SiteConfig = z.output<typeof SiteSchema>;
export type StagingConfig = z.output<typeof StagingSchema>;
export type JobConfig = z.output<typeof JobSchema>;
export type FetchConfig = z.output<typeof FetchSchema>;
