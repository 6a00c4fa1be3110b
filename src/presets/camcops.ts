// CamCOPS, the Cambridge Cognitive and Psychiatric Test Kit's server: ../shared/seeds/001_2ac58a816490de90.txt
// ("(MANUAL) Configuring the server"). The section of the guide each choice follows is named beside it.
import { z } from "zod";
// A preset sits above src/host in the layers (README, "Layout"): camcops.conf names the folders the
// host lays out for the app (/etc/camcops, its state on the data volume, its venv), and appPaths is the
// one place that says where those are. Passing the paths in would thread them through every preset
// for this one; a copy in a lower layer would be a second place to keep in step.
import { appPaths } from "../host/apps/paths";
import { Preset, PresetProblem } from "./preset";

const NAME = "camcops";
const paths = appPaths(NAME);
/** "Create/edit a CamCOPS config file": /etc/camcops/camcops.conf (the app's /etc folder). */
export const CAMCOPS_CONF = `${paths.etc}/camcops.conf`;
const CLI = `camcops_server`;

type IniValue = string | number | boolean | string[];
const iniValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

const Options = z
  .object({
    version: z
      .string()
      .regex(/^[0-9][0-9A-Za-z.+-]*$/, "expected a version such as 2.4.22")
      .describe("the camcops_server version from PyPI, e.g. 2.4.22 (required: upgrade_db runs before every start, so the version decides the schema)"),
    institutionUrl: z.url().optional().describe("LOCAL_INSTITUTION_URL: where the institution's logo in the menu links to"),
    settings: z
      .object({
        site: z.record(z.string(), iniValue).default({}),
        server: z.record(z.string(), iniValue).default({}),
        export: z.record(z.string(), iniValue).default({}),
      })
      .strict()
      .default({ site: {}, server: {}, export: {} })
      .describe("more camcops.conf keys by section: { site?, server?, export? }, e.g. site: { LANGUAGE: en_GB }"),
  })
  .strict();

/** Keys studyhost writes into camcops.conf itself, by section: a setting may not replace them. */
const OWN_KEYS: Record<string, readonly string[]> = {
  site: ["DB_URL", "SESSION_COOKIE_SECRET", "USER_DOWNLOAD_DIR", "ALLOW_INSECURE_COOKIES", "EXTRA_STRING_FILES"],
  server: ["HOST", "PORT", "UNIX_DOMAIN_SOCKET", "SSL_CERTIFICATE", "SSL_PRIVATE_KEY", "TRUSTED_PROXY_HEADERS", "DEBUG_TOOLBAR"],
  export: ["EXPORT_LOCKDIR", "CELERY_BEAT_SCHEDULE_DATABASE"],
};

export const camcops: Preset<z.output<typeof Options>> = {
  name: NAME,
  guide: "001_2ac58a816490de90.txt",
  options: Options,
  expand(o, context) {
    // CamCOPS never creates studyhost's SQLite file: its nightly backup would fail every night.
    if (context.engine === "sqlite") {
      throw new PresetProblem(
        "database.engine",
        "camcops keeps its data in MariaDB (seed 001) and never creates studyhost's SQLite file: use none (the preset's default) or postgres",
      );
    }
    // "Create a database": CamCOPS's data is in MySQL, here MariaDB from the distribution
    // (studyhost:accessories.mariadb, below): on the app host (small, large) or on two-server's database
    // host, reached over the private network with TLS: every tier.
    for (const [section, keys] of Object.entries(OWN_KEYS)) {
      const clash = Object.keys(o.settings[section as keyof typeof o.settings]).find((k) => keys.includes(k.toUpperCase()));
      if (clash)
        throw new PresetProblem(`app.settings.${section}.${clash}`, `${clash} is written by studyhost (generated or derived); leave it out of settings`);
    }
    // "Plan where to put files", mapped onto studyhost's layout. Writable folders must be on the data
    // volume (the unit's sandbox makes everything else read-only, and PrivateTmp hides /var/tmp):
    //  - /var/lock/camcops (export locks)           -> <state>/lock        (EXPORT_LOCKDIR)
    //  - /var/tmp/camcops (user download files)     -> <state>/downloads   (USER_DOWNLOAD_DIR)
    //  - /var/cache/camcops/matplotlib              -> <state>/matplotlib  (MPLCONFIGDIR, "Notes on supervisor")
    //  - Celery Beat's schedule database             -> <state>/celerybeat_schedule
    //  - /run/camcops/camcops.socket: not used; gunicorn on 127.0.0.1:PORT ("Data flow": "an internal
    //    TCP/IP port (or UNIX socket)").
    //  - /var/log/supervisor/camcops_*.log          -> /var/log/camcops/camcops.log (systemd, rotated)
    //  - /usr/share/camcops, /usr/bin/camcops_server -> the venv, /srv/camcops/venv (pip, not the .deb)
    const state = (sub: string) => `${paths.state}/${sub}`;
    const site: Record<string, IniValue> = {
      // "DB_URL": MySQL via PyMySQL, mysql+pymysql://...; studyhost's MARIADB_URL is that URL.
      DB_URL: "${MARIADB_URL}",
      // "SESSION_COOKIE_SECRET": something random, kept secret: the app's generated SECRET_KEY.
      SESSION_COOKIE_SECRET: "${SECRET_KEY}",
      // "Overview": HTTPS only; cookies stay HTTPS-only.
      ALLOW_INSECURE_COOKIES: false,
      // "EXTRA_STRING_FILES": at least camcops.xml, here the strings the package ships (a glob: the
      // venv's Python version is the distribution's).
      EXTRA_STRING_FILES: `${paths.venv}/lib/python3*/site-packages/camcops_server/extra_strings/*.xml`,
      USER_DOWNLOAD_DIR: state("downloads"),
      ...(o.institutionUrl ? { LOCAL_INSTITUTION_URL: o.institutionUrl } : {}),
      ...o.settings.site,
    };
    const server: Record<string, IniValue> = {
      // "HOST" / "PORT": 127.0.0.1, invisible to the network; nginx in front does HTTPS ("SSL_CERTIFICATE":
      // "don't set this" behind a front-end server).
      HOST: "127.0.0.1",
      PORT: "${PORT}",
      // "TRUSTED_PROXY_HEADERS": the headers studyhost's nginx sets (it passes Host itself).
      TRUSTED_PROXY_HEADERS: ["HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP"],
      DEBUG_TOOLBAR: false,
      ...o.settings.server,
    };
    const exportSection: Record<string, IniValue> = {
      EXPORT_LOCKDIR: state("lock"),
      CELERY_BEAT_SCHEDULE_DATABASE: state("celerybeat_schedule"),
      ...o.settings.export,
    };
    return {
      app: {
        kind: "python",
        // The app's name makes /etc/camcops, /srv/camcops and /var/log/camcops ("Plan where to put files").
        name: NAME,
        // "Data flow": the back-end server's code lives in the CamCOPS Python virtual environment:
        // camcops_server from PyPI, pinned; PyMySQL for "DB_URL"'s mysql+pymysql driver.
        source: { pip: `camcops_server==${o.version}` },
        packages: ["pymysql"],
        // "Start CamCOPS": "For high-performance work under Linux, use Gunicorn, with the serve_gunicorn
        // command" (systemd here in the place of Supervisor: it restarts it and keeps its log).
        start: `${CLI} serve_gunicorn --config ${CAMCOPS_CONF}`,
        port: 8000,
        env: {
          // "Notes on supervisor": MPLCONFIGDIR, matplotlib's cache.
          MPLCONFIGDIR: state("matplotlib"),
        },
        // Tablets upload to /database from anywhere ("Browse to the web site"); the web view has its
        // own logins and lockouts: there is no area to allow-list.
        adminPaths: [],
        // "Troubleshooting access to the web site": GET / answers (with the login page).
        healthPath: "/",
        // The writable folders of the FHS mapping above, on the data volume (every deploy: CamCOPS
        // recreates its lock folder, the others it expects); then "Create the database structure":
        // upgrade_db as the service's user, before every start.
        migrate: [`mkdir -p ${state("lock")} ${state("downloads")} ${state("matplotlib")}`, `${CLI} upgrade_db --config ${CAMCOPS_CONF}`],
        configFiles: [
          {
            // "Create/edit a CamCOPS config file": /etc/camcops/camcops.conf, readable by the service
            // only (root:camcops 0640), in configparser's format ("The CamCOPS server configuration file").
            name: "camcops.conf",
            format: "ini",
            content: { site, server, export: exportSection },
          },
        ],
      },
      // "Create a database": a database for CamCOPS, a user with access to it only, and a read-only
      // user for analysis; "Configure backups": dumps kept daily, then weekly and monthly (the host's
      // shared retention, studyhost:backups). CamCOPS uses no other database: studyhost's own is
      // none (no PostgreSQL idles beside MariaDB) unless the study sets studyhost:database itself.
      defaults: { accessories: { mariadb: {} }, database: { engine: "none" } },
    };
  },
};
