// The keys for work that runs beside the app: `jobs` (commands on a schedule, seed 002's analysis
// pipeline and push jobs) and `fetch` (a bucket synced into the app's state at every boot, seed 003's
// data download), with the rules tying them to the app and to their secrets.
import { z } from "zod";
import { scheduleProblem, SCHEDULE_EXPECTED } from "./schedule";
import { slug, wholeNumber } from "./validators";

/** An S3 bucket name (also a Spaces one). */
export const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "expected an S3 bucket name")
  .describe("an S3 bucket name such as study-data");

export const schedule = z
  .string({ error: SCHEDULE_EXPECTED })
  .superRefine((value, ctx) => {
    const why = scheduleProblem(value);
    if (why) ctx.addIssue({ code: "custom", message: why });
  })
  .describe('a cron spec such as "0 3 * * *" or "*/15 * * * *", or a systemd OnCalendar expression such as daily or *-*-* 03:00:00 (the host runs on UTC)');

const appName = slug.optional().describe("the app whose user, environment and code it runs with (default: studyhost:app.name)");

export const JobSchema = z
  .object({
    name: slug.describe("the job's name: its units are studyhost-job-<name>.service and .timer, its log /var/log/<app>/<name>.log"),
    schedule,
    command: z
      .string({ error: "expected a shell command such as 'python bin/intake.py 3'" })
      .min(1, "expected a shell command such as 'python bin/intake.py 3'")
      .describe(
        "a bash command, run as the app's user in its working directory with its env file and venv (in its image for a container app); any failing line fails the job",
      ),
    app: appName,
    timeoutMinutes: wholeNumber(1, 10080, " of minutes", 60).default(60).describe("stop the job and count it failed after this many minutes (default 60)"),
  })
  .strict();

export const FetchSchema = z
  .object({
    name: slug.describe("the fetch's name: its unit is studyhost-fetch-<name>.service"),
    bucket: bucketName,
    prefix: z
      .string()
      .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9!_.*'()\/-]+$/, "expected a key prefix inside the bucket such as exports/latest (no leading /, no ..)")
      .optional()
      .describe("only the objects under this prefix, such as exports/latest (default: the whole bucket)"),
    endpoint: z.url().optional().describe("an S3-compatible endpoint such as https://fra1.digitaloceanspaces.com (default: AWS S3)"),
    region: z.string().min(1).optional().describe("the bucket's region, such as eu-west-2"),
    accessKeyId: z
      .string()
      .min(1)
      .optional()
      .describe("the access key id for a private bucket (its secret goes in studyhost:fetchSecretAccessKeys.<name>); none for a public bucket"),
    dest: z
      .string({ error: "expected a folder name such as data" })
      .regex(/^(?!\.\.?$)[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/, "expected a folder name such as data (letters, digits, . _ -; no /)")
      .describe(
        "the folder, under the app's state folder /var/lib/studyhost/<app>, that mirrors the bucket (a container volume's name mounts it into the container)",
      ),
    app: appName,
    every: schedule.optional().describe("also re-sync on this schedule (cron or OnCalendar); default: at boot only"),
    timeoutMinutes: wholeNumber(1, 1440, " of minutes", 30).default(30).describe("give up after this many minutes (default 30); the app starts anyway"),
  })
  .strict();

export const fetchSecretAccessKeys = z
  .record(slug, z.string().min(1), { error: "expected fetch names with secret access keys (name: secret)" })
  .default({})
  .describe(
    "the secret access key of each fetch with an accessKeyId, by fetch name: pulumi config set --secret --path 'studyhost:fetchSecretAccessKeys.<name>' SECRET",
  );

/** What the cross-key rules need from the parsed config. */
interface ScheduledConfig {
  readonly app: { readonly name: string };
  /** Every app on the host (studyApps): the primary, its staging copy and the sites. */
  readonly appNames: readonly string[];
  readonly jobs: readonly z.output<typeof JobSchema>[];
  readonly fetch: readonly z.output<typeof FetchSchema>[];
  readonly fetchSecretAccessKeys: Record<string, string>;
}

/** Jobs and fetches name apps that exist, have names of their own, and have the secrets they need. */
export function checkScheduled(c: ScheduledConfig, ctx: z.RefinementCtx): void {
  const apps = c.appNames;
  const checkApp = (key: "jobs" | "fetch", i: number, app: string | undefined) => {
    if (app !== undefined && !apps.includes(app)) {
      ctx.addIssue({ code: "custom", path: [key, i, "app"], message: `no app of this study has that name; expected one of: ${apps.join(", ")}` });
    }
  };
  c.jobs.forEach((job, i) => {
    checkApp("jobs", i, job.app);
    if (c.jobs.findIndex((other) => other.name === job.name) < i) {
      ctx.addIssue({
        code: "custom",
        path: ["jobs", i, "name"],
        message: "another job has this name; expected a name of its own (it names the job's units and log)",
      });
    } else if (job.name === (job.app ?? c.app.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["jobs", i, "name"],
        message: "expected a name other than its app's: the job's log would be the app's own log file",
      });
    }
  });
  c.fetch.forEach((fetch, i) => {
    checkApp("fetch", i, fetch.app);
    const app = fetch.app ?? c.app.name;
    if (c.fetch.findIndex((other) => other.name === fetch.name) < i) {
      ctx.addIssue({
        code: "custom",
        path: ["fetch", i, "name"],
        message: "another fetch has this name; expected a name of its own (it names the fetch's units)",
      });
    } else if (c.fetch.findIndex((other) => other.dest === fetch.dest && (other.app ?? c.app.name) === app) < i) {
      ctx.addIssue({
        code: "custom",
        path: ["fetch", i, "dest"],
        message: "another fetch mirrors into this folder, and each would delete the other's files; expected a folder of its own",
      });
    }
    if (fetch.accessKeyId && !c.fetchSecretAccessKeys[fetch.name]) {
      ctx.addIssue({
        code: "custom",
        path: ["fetchSecretAccessKeys", fetch.name],
        message: `expected the bucket's secret access key (fetch.${i}.accessKeyId is set): pulumi config set --secret --path 'studyhost:fetchSecretAccessKeys.${fetch.name}' SECRET`,
      });
    }
  });
  const takeSecrets = c.fetch.filter((f) => f.accessKeyId).map((f) => f.name);
  for (const name of Object.keys(c.fetchSecretAccessKeys)) {
    if (!takeSecrets.includes(name)) {
      ctx.addIssue({
        code: "custom",
        path: ["fetchSecretAccessKeys", name],
        message: `no fetch with an accessKeyId has this name; expected one of: ${takeSecrets.join(", ") || "(none: public buckets need no secret)"}`,
      });
    }
  }
}
