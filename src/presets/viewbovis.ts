// ViewBovis (APHA): ../shared/seeds/003_3705a38d04715ead.txt ("Production"). The section of the guide
// each choice follows is named beside it.
import { z } from "zod";
import type { Preset } from "./preset";

const image = (what: string, example: string) =>
  z
    .string()
    .regex(/^[a-z0-9][a-z0-9._\/:@-]*$/i, `expected an image reference such as ${example}`)
    .describe(`${what}, e.g. ${example} (pin a version or digest)`);

const Bucket = z
  .object({
    bucket: z.string().min(1).describe("the bucket holding the production data (s3-csu-003 in the guide)"),
    prefix: z.string().optional().describe("the folder in it"),
    endpoint: z.url().optional().describe("an S3-compatible endpoint (default AWS S3)"),
    region: z.string().optional(),
    accessKeyId: z.string().optional().describe("for a private bucket; the secret goes in studyhost:fetchSecretAccessKeys.<fetch name>"),
  })
  .strict();

const Options = z
  .object({
    image: image("the ViewBovis image", "aphacsubot/viewbovis:prod"),
    data: Bucket.describe("where the production data comes from at every boot: { bucket, prefix?, endpoint?, region?, accessKeyId? }"),
    nextstrain: z
      .object({
        domain: z.string().min(1).describe("the Auspice dashboard's DNS name, e.g. nextstrain.viewbovis.example.org"),
        image: image("the Auspice image", "nextstrain/auspice:2.51.0").default("nextstrain/auspice:2.51.0"),
        prefix: z.string().optional().describe("the folder of the bucket holding Auspice's datasets (default: none fetched)"),
      })
      .strict()
      .optional()
      .describe("the Nextstrain Auspice server on its own subdomain"),
    staging: z
      .object({ domain: z.string().min(1).describe("the test domain"), image: image("the image to test", "aphacsubot/viewbovis:prod-test") })
      .strict()
      .optional()
      .describe("the testing instance, deployed (and checked) before production: { domain, image }"),
    officeHours: z
      .object({ on: z.string().default("0 8 * * *"), off: z.string().default("0 22 * * *"), timezone: z.string().default("Europe/London") })
      .strict()
      .optional()
      .describe("power the app host on and off on a schedule (AWS only: DigitalOcean bills a powered-off droplet); the guide's is 08:00-22:00 every day"),
  })
  .strict();

const DATA = { name: "data", containerPath: "/data", readOnly: true };

export const viewbovis: Preset<z.output<typeof Options>> = {
  name: "viewbovis",
  guide: "003_3705a38d04715ead.txt",
  options: Options,
  expand(o) {
    // "Docker container": the host's network, /ViewBovis (here the app's data folder) bound on /data.
    // "Gunicorn production server": gunicorn -b 127.0.0.1:3000 -w 4 deploy:app with its access and
    // error logs; "Logging": on the host (here /var/log/viewbovis/, rotated with the app's logs).
    // Through sh so that the staging copy (its own port and log folder) runs the same command: PORT comes
    // from the app's env, LOG_DIR from studyhost's log mount.
    const gunicorn = [
      "sh",
      "-c",
      'exec gunicorn -b "127.0.0.1:$PORT" -w 4 deploy:app --log-level=info --access-logfile "$LOG_DIR/access.log" --error-logfile "$LOG_DIR/error.log"',
    ];
    // "Architecture" / "On startup": the latest production data downloaded from the bucket at every boot.
    const fetch = (app: string) => ({ name: app, app, dest: "data", ...o.data });
    const fetches = [fetch("viewbovis"), ...(o.staging ? [fetch("viewbovis_staging")] : [])];
    if (o.nextstrain?.prefix) fetches.push({ ...fetch("nextstrain"), name: "nextstrain", app: "nextstrain", prefix: o.nextstrain.prefix });
    return {
      app: {
        kind: "container",
        name: "viewbovis",
        image: o.image,
        command: gunicorn,
        port: 3000,
        volumes: [DATA],
        // The guide's users reach it only through the VPN; there is no admin area to allow-list.
        adminPaths: [],
      },
      lists: {
        fetch: fetches,
        // "nginx proxy server": a second app on its own subdomain, port 4001, through the same nginx.
        ...(o.nextstrain
          ? {
              sites: [
                {
                  domain: o.nextstrain.domain,
                  app: {
                    kind: "container",
                    name: "nextstrain",
                    image: o.nextstrain.image,
                    port: 4001,
                    command: ["auspice", "view", "--datasetDir", "/data"],
                    env: { HOST: "127.0.0.1", PORT: "4001" },
                    volumes: [DATA],
                    adminPaths: [],
                  },
                },
              ],
            }
          : {}),
      },
      // "Deployment": the test image on the testing domain before production (studyhost checks its
      // health first and holds production back if it fails).
      defaults: {
        ...(o.staging ? { staging: { domain: o.staging.domain, image: o.staging.image } } : {}),
        // "Analytics": the requests of each day, per path, into a dated JSON file (here per site, on the
        // data volume). The guide runs it before the 22:00 shutdown; studyhost's timer counts the day
        // before at 01:30, or at the next boot when the host was off (Persistent=true).
        analytics: {},
        // "Automated operational procedures": on at 08:00, off at 22:00 (studyhost:powerSchedule).
        ...(o.officeHours ? { powerSchedule: o.officeHours } : {}),
      },
    };
  },
};
