// The e-mission server: ../shared/seeds/002_c95effa649e2b542.txt ("Deploying Your Own Server to
// Production"). The section of the guide each choice follows is named beside it.
//
// "Upgrade to production" / "Configuring logs" / "cryptfs (suggested)": the guide wants the data and
// the logs on encrypted storage, because the cloud's admins can read a plain disk. What studyhost gives
// (README, "Presets"): MongoDB's data, e-mission's own log files and, by this preset's default
// `logsOnDataVolume: true` (src/host/system/logVolume.ts), the journal (where the containers' output goes:
// Docker keeps no copy of its own), nginx's logs and the jobs' run logs (/var/log/emission) are all on
// the study's data volume. On AWS that volume and the boot disk are EBS volumes created with
// `encrypted: true` (src/clouds/aws.ts): encrypted at rest with an AWS-managed KMS key, so a copied
// disk, snapshot or retired drive is unreadable. On DigitalOcean, volumes are encrypted at rest by the
// provider (the droplet's own disk is not covered: hence the logs on the volume). Neither protects
// against someone with the running host (root on it, or an attacker in the app: the filesystem is
// mounted and readable) or with the cloud account (who can snapshot, attach or open a console), and
// neither lets you hold the key, which is the guide's point for cryptfs. studyhost does not set up
// LUKS: the guide's "Decrypt + mount after reboot" needs someone to type the passphrase at every boot.
import { z } from "zod";
import { schedule } from "../config/scheduled";
import { wholeNumber } from "../config/validators";
import { Preset, PresetProblem } from "./preset";

const Options = z
  .object({
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._\/:@-]*$/i, "expected an image reference such as emission/e-mission-server:v3.2.0")
      .refine(
        (v) => /@sha256:|:(?!latest$)[^/]+$/.test(v),
        "expected a pinned tag or digest, such as emission/e-mission-server:v3.2.0 (not latest, not untagged)",
      )
      .describe("the e-mission server image, e.g. emission/e-mission-server:v3.2.0 (a pinned tag or digest)"),
    serverDir: z
      .string()
      .regex(/^\/[A-Za-z0-9._\/-]*[^/]$/, "expected an absolute path such as /usr/src/app")
      .default("/usr/src/app")
      .describe("where the image holds the server's checkout, whose conf/ folder the files are mounted into (default /usr/src/app, the image's WORKDIR)"),
    auth: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/, "expected an auth method name such as token_list")
      .describe(
        "the auth method of conf/net/api/webserver.conf, such as token_list, secret or openid_auth (its settings file goes in conf/net/auth/<method>.json)",
      ),
    intake: z
      .object({
        schedule: schedule.default("@daily"),
        processes: wholeNumber(1, 64, "", 3).default(3).describe("intake_multiprocess.py's process count (default 3)"),
        timeoutMinutes: wholeNumber(1, 10080, " of minutes", 720).default(720),
      })
      .strict()
      .default({ schedule: "@daily", processes: 3, timeoutMinutes: 720 })
      .describe("the daily analysis pipeline: { schedule? (default @daily), processes? (default 3), timeoutMinutes? }"),
    push: z
      .object({
        provider: z
          .string()
          .regex(/^[a-z][a-z0-9_-]*$/, "expected a push provider such as firebase")
          .default("firebase"),
        schedules: z
          .record(z.string(), schedule)
          .default({ "60": "*/1 * * * *", "600": "*/10 * * * *", "1800": "*/30 * * * *", "3600": "@hourly" })
          .describe("schedule per sync interval in seconds (default the guide's: 60 every minute, 600 every 10, 1800 every 30, 3600 hourly)"),
      })
      .strict()
      .optional()
      .describe("iOS silent push: { provider? (default firebase), schedules? }; the token goes in the app's env as PUSH_SERVER_AUTH_TOKEN"),
  })
  .strict();

const PORT = 8080;
/** e-mission's own log files, inside the container: a folder of the app's state on the data volume. */
const LOG_DIR = "/var/emission/logs";

/** A JSON file for the image, with ${NAME} references left for studyhost to fill in (the values are URL-encoded or plain words). */
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * "Configuring logs": a Python logging dictConfig with the files under LOG_DIR. Written as JSON without
 * true/false/null, so it reads the same as JSON and as the Python literal the samples are.
 */
const logConf = (name: string) =>
  json({
    version: 1,
    formatters: { detailed: { class: "logging.Formatter", format: "%(asctime)s:%(levelname)s:%(thread)d:%(message)s" } },
    handlers: {
      console: { class: "logging.StreamHandler", level: "WARNING" },
      file: { class: "logging.handlers.RotatingFileHandler", filename: `${LOG_DIR}/${name}.log`, maxBytes: 1073741824, backupCount: 8, formatter: "detailed" },
      errors: {
        class: "logging.handlers.RotatingFileHandler",
        filename: `${LOG_DIR}/${name}-errors.log`,
        level: "ERROR",
        maxBytes: 1073741824,
        backupCount: 2,
        formatter: "detailed",
      },
    },
    root: { level: "DEBUG", handlers: ["console", "file", "errors"] },
  });

/** The server's python, as the image's start script has it (conda's environment, PYTHONPATH=.). */
const inServer = (command: string) => `bash -c ". setup/activate.sh && PYTHONPATH=. python ${command}"`;

export const emission: Preset<z.output<typeof Options>> = {
  name: "emission",
  guide: "002_c95effa649e2b542.txt",
  options: Options,
  expand(o, context) {
    if (context.engine === "sqlite") {
      throw new PresetProblem(
        "database.engine",
        "emission keeps its data in MongoDB (seed 002) and never creates studyhost's SQLite file: use none (the preset's default) or postgres",
      );
    }
    // "Running behind a reverse proxy/load balancer": behind nginx the server speaks plain HTTP, and
    // the skip (dummy-dev) method makes a user's email their token ("This is very bad").
    if (o.auth === "skip" || o.auth === "dummy-dev")
      throw new PresetProblem(
        "app.auth",
        `${o.auth} lets anybody who knows a user's email read their timeline (seed 002, "Running behind a reverse proxy"); expected a real auth method such as token_list`,
      );
    // "The iOS silent push": each key is silent_ios_push.py's argument, a sync interval in seconds.
    const interval = Object.keys(o.push?.schedules ?? {}).find((k) => !/^[1-9][0-9]{0,6}$/.test(k));
    if (interval !== undefined)
      throw new PresetProblem(`app.push.schedules.${interval}`, "expected a sync interval in seconds such as 600 (silent_ios_push.py's argument)");
    const conf = (path: string) => `${o.serverDir}/conf/${path}`;
    return {
      app: {
        kind: "container",
        name: "emission",
        image: o.image,
        // "The webserver": ./e-mission-py.bash emission/net/api/cfc_webapp.py in the server's folder
        // (the image's WORKDIR). Its watchdog (supervisord, autorestart=true) is the unit's Restart=always.
        command: ["bash", "-c", ". setup/activate.sh && exec ./e-mission-py.bash emission/net/api/cfc_webapp.py"],
        // "Running behind a reverse proxy": the guide's port 8080, behind nginx (TLS: "Configuring the
        // webserver" asks for SSL, here from Let's Encrypt at nginx rather than cheroot and keys.json).
        port: PORT,
        // "Running the database on a different server": studyhost keeps MongoDB on the app host, on
        // the private Docker network (reached by name, no published port); the server joins it.
        network: "private",
        // "Configuring logs": e-mission's own log files on the data volume (the encrypted storage).
        volumes: [{ name: "logs", containerPath: LOG_DIR }],
        adminPaths: [],
        configFiles: [
          // "Configure the server": conf/storage/db.conf, the database (the URL of the MongoDB
          // accessory, with its app user's password; get_database.py reads timeseries.url).
          { name: "db.conf", format: "text", mount: conf("storage/db.conf"), content: json({ timeseries: { url: "${MONGO_URL}", result_limit: 250000 } }) },
          // "Configuring the webserver" / "Configuring authentication": conf/net/api/webserver.conf,
          // the port, 0.0.0.0 inside the container (the sample's note: localhost does not work), the
          // auth method. Only 127.0.0.1 outside reaches it (the published port), for nginx.
          {
            name: "webserver.conf",
            format: "text",
            mount: conf("net/api/webserver.conf"),
            content: json({
              paths: { static_path: "webapp/www/", python_path: "main", log_base_dir: ".", log_file: "debug.log" },
              server: { host: "0.0.0.0", port: "${PORT}", timeout: "3600", auth: o.auth },
            }),
          },
          // "Configuring logs": conf/log/webserver.conf and conf/log/intake.conf, away from /var/tmp.
          { name: "log-webserver.conf", format: "text", mount: conf("log/webserver.conf"), content: logConf("webserver") },
          { name: "log-intake.conf", format: "text", mount: conf("log/intake.conf"), content: logConf("intake") },
          // "Configuring push": conf/net/ext_service/push.json, the token from the app's env.
          ...(o.push
            ? [
                {
                  name: "push.json",
                  format: "text",
                  mount: conf("net/ext_service/push.json"),
                  content: json({ provider: o.push.provider, server_auth_token: "${PUSH_SERVER_AUTH_TOKEN}" }),
                },
              ]
            : []),
        ],
      },
      lists: {
        jobs: [
          // "The analysis pipeline": intake_multiprocess.py 3, @daily. studyhost runs it in a new
          // container of the image with the server's conf files, its log in /var/log/emission/intake.log.
          {
            name: "intake",
            schedule: o.intake.schedule,
            command: inServer(`bin/intake_multiprocess.py ${o.intake.processes}`),
            timeoutMinutes: o.intake.timeoutMinutes,
          },
          // "The iOS silent push": silent_ios_push.py <interval> for each sync frequency.
          ...Object.entries(o.push?.schedules ?? {}).map(([seconds, when]) => ({
            name: `push_${seconds}`,
            schedule: when,
            command: inServer(`bin/push/silent_ios_push.py ${seconds}`),
            timeoutMinutes: Math.max(5, Math.ceil(Number(seconds) / 60)),
          })),
        ],
      },
      // "Running the database on a different server" (optional in the guide): MongoDB beside the app,
      // data on the data volume, never a published port.
      // e-mission keeps everything in MongoDB: studyhost's own database is none (no idle PostgreSQL,
      // no SQLite file that nobody writes and whose backup would fail).
      // "Configuring logs": the logs on the data volume too, the storage the cloud encrypts (above).
      defaults: { accessories: { mongodb: {} }, database: { engine: "none" }, logsOnDataVolume: true },
    };
  },
};
