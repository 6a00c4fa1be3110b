// Access-log analytics (studyhost:analytics, seed 003): every day, a oneshot service counts the previous
// day's requests of each site on the host (the study's app, its staging copy, each site), per path
// (query strings stripped) and per status code, from nginx's access log of that site, and writes them
// to /var/lib/studyhost/analytics/<site>/<YYYY-MM-DD>.json on the data volume; files older than
// keepDays are deleted. The counting is a small Python script (the distribution's python3, standard
// library only), rendered as a file so it can be run and tested as it is.
//
// Which files hold "yesterday": Debian's /etc/logrotate.d/nginx rotates /var/log/nginx/*.log daily,
// keeps 14, compresses with delaycompress, and skips empty logs (notifempty); logrotate.timer fires at
// midnight, up to an hour late, and at boot if a run was missed. So yesterday's lines are mostly in
// <site>.access.log.1, the first minutes of the day may be in .2.gz, and if rotation has not run yet
// (or the host was off at midnight) they are in <site>.access.log itself. The script therefore reads
// the live log, then .1, .2.gz, ... (newest first), counts only lines dated the given day, and stops at
// the first file that starts before that day: the answer does not depend on when rotation ran.
//
// Who runs it: a dedicated system user, studyhost-analytics, with the adm group added for this service
// only (SupplementaryGroups=adm: nginx writes its logs www-data:adm 0640). Not root: the script parses
// text that anyone on the internet can put in a request line, so it runs with no privileges beyond
// reading logs, no network, and a read-only system except its own output folder.
import { requireDataVolume } from "../system/volume";
import { ANALYTICS_DIR, type AnalyticsConfig } from "../../config/analytics";
import { studyApps } from "../../config/apps";
import type { StudyConfig } from "../../config/load";
import { ALERT_ON_FAILURE } from "../system/base";
import { calendarTimer } from "../apps/jobs";
import { NGINX_PATHS } from "../web/nginx";
import { configFile, HostPart, PATHS, script } from "../document/part";
import { toOnCalendar } from "../schedule";
import { assetPart, fillAsset, hostAsset } from "../document/template";

export { ANALYTICS_DIR };

/** The system user the count runs as (a hyphen: no app, whose names are slugs, can take it). */
export const ANALYTICS_USER = "studyhost-analytics";
export const ANALYTICS_UNIT = "studyhost-analytics";
export const ANALYTICS_SCRIPT = `${PATHS.lib}/analytics.py`;

/** nginx's access log of a site (see fullSite in ./nginx.ts: one log per site, named after its app). */
export const accessLog = (site: string, logs = NGINX_PATHS.logs) => `${logs}/${site}.access.log`;

export const ANALYTICS_PY = hostAsset(__dirname, "analytics.py");

/** The sites whose logs are counted: every app with an nginx site on the host, by app name. */
export function analyticsSites(config: StudyConfig): string[] {
  return studyApps(config).map((a) => a.app.name);
}

/** The command line of the daily run (also what an operator runs by hand with --date to backfill). */
export function analyticsCommand(config: StudyConfig, analytics: AnalyticsConfig): string {
  const sites = analyticsSites(config).map((s) => `${s}=${accessLog(s)}`);
  return ["/usr/bin/python3", ANALYTICS_SCRIPT, "--out", ANALYTICS_DIR, "--keep-days", String(analytics.keepDays), ...sites].join(" ");
}

function analyticsService(config: StudyConfig, analytics: AnalyticsConfig): string {
  return fillAsset(__dirname, "studyhost-analytics.service", {
    DATA_DIR: PATHS.data,
    ALERT_ON_FAILURE,
    USER: ANALYTICS_USER,
    COMMAND: analyticsCommand(config, analytics),
    ANALYTICS_DIR,
  });
}

/** The script, the units and the provisioning step (nothing without studyhost:analytics). */
export function analyticsPart(config: StudyConfig): HostPart {
  const analytics = config.analytics;
  if (!analytics) return {};
  return {
    packages: ["python3"],
    files: [
      script(ANALYTICS_SCRIPT, ANALYTICS_PY),
      configFile(`${PATHS.units}/${ANALYTICS_UNIT}.service`, analyticsService(config, analytics)),
      configFile(
        `${PATHS.units}/${ANALYTICS_UNIT}.timer`,
        calendarTimer(`studyhost: schedule of the access-log counts (${analytics.schedule})`, toOnCalendar(analytics.schedule)),
      ),
    ],
    steps: [
      {
        name: "analytics",
        script: assetPart(__dirname, "analytics-setup.bash", {
          REQUIRE_DATA_VOLUME: requireDataVolume("the access-log counts"),
          USER: ANALYTICS_USER,
          ANALYTICS_DIR,
          UNIT: ANALYTICS_UNIT,
        }),
      },
    ],
  };
}

/** The analytics as the host manifest lists them, for operators (undefined without the key). */
export function analyticsManifest(config: StudyConfig): object | undefined {
  const analytics = config.analytics;
  if (!analytics) return undefined;
  return {
    schedule: analytics.schedule,
    onCalendar: toOnCalendar(analytics.schedule),
    keepDays: analytics.keepDays,
    out: `${ANALYTICS_DIR}/<site>/<YYYY-MM-DD>.json`,
    sites: Object.fromEntries(analyticsSites(config).map((s) => [s, accessLog(s)])),
    timer: `${ANALYTICS_UNIT}.timer`,
    user: ANALYTICS_USER,
  };
}
