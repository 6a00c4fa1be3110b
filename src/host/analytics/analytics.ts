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

export { ANALYTICS_DIR };

/** The system user the count runs as (a hyphen: no app, whose names are slugs, can take it). */
export const ANALYTICS_USER = "studyhost-analytics";
export const ANALYTICS_UNIT = "studyhost-analytics";
export const ANALYTICS_SCRIPT = `${PATHS.lib}/analytics.py`;

/** nginx's access log of a site (see fullSite in ./nginx.ts: one log per site, named after its app). */
export const accessLog = (site: string, logs = NGINX_PATHS.logs) => `${logs}/${site}.access.log`;

export const ANALYTICS_PY = String.raw`#!/usr/bin/python3
"""studyhost-analytics: count one day's requests per path and per status code in nginx access logs.

Usage: analytics.py --out DIR --keep-days N [--date YYYY-MM-DD] [--today YYYY-MM-DD] SITE=LOG...

For each SITE, reads LOG, LOG.1, LOG.2.gz, ... (newest first; plain or gzipped at any number), counts the
lines of the combined log format dated --date (default: yesterday, in the host's time zone, which is the
one nginx writes), and writes DIR/SITE/DATE.json. Then deletes DIR/SITE/YYYY-MM-DD.json files older than
N days before --today (default: today). Written by studyhost; edits are overwritten at provisioning.
"""
import argparse
import datetime
import gzip
import json
import os
import re
import sys
import tempfile
from urllib.parse import urlsplit

# $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
# nginx writes a double quote inside $request as \x22, so the request is everything between the quotes.
LINE = re.compile(r'\[(\d{2})/([A-Z][a-z]{2})/(\d{4}):\d{2}:\d{2}:\d{2} [+-]\d{4}\] "([^"]*)" (\d{3}) ')
MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")


def rotated_files(log):
    """The live log, then its rotations newest first: LOG, LOG.1 (or LOG.1.gz), LOG.2.gz, ..."""
    files = [log] if os.path.exists(log) else []
    n = 1
    while True:
        found = [p for p in (f"{log}.{n}", f"{log}.{n}.gz") if os.path.exists(p)]
        if not found:
            return files
        files.extend(found)
        n += 1


def open_log(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, "rt", encoding="utf-8", errors="replace")


def line_date(match):
    day, month, year = match.group(1), match.group(2), match.group(3)
    if month not in MONTHS:
        return None
    return f"{year}-{MONTHS[month]:02d}-{day}"


def request_path(request):
    """The path of a request line, without query string or fragment; None if it is not a request."""
    parts = request.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    target = parts[1]
    if target.startswith("/"):
        return target.split("?", 1)[0].split("#", 1)[0]
    if target == "*":
        return "*"
    if "://" in target:
        return urlsplit(target).path or "/"
    return None


def count(log, date):
    counts = {"requests": 0, "paths": {}, "statuses": {}, "malformed": 0}
    for path in rotated_files(log):
        first = None
        with open_log(path) as lines:
            for line in lines:
                m = LINE.search(line)
                if not m:
                    continue
                day = line_date(m)
                if first is None:
                    first = day
                if day != date:
                    continue
                counts["requests"] += 1
                status = m.group(5)
                counts["statuses"][status] = counts["statuses"].get(status, 0) + 1
                target = request_path(m.group(4))
                if target is None:
                    counts["malformed"] += 1
                else:
                    counts["paths"][target] = counts["paths"].get(target, 0) + 1
        # Files are chronological and read newest first: one that starts before the day ends the search.
        if first is not None and first < date:
            break
    return counts


def write_json(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
    os.chmod(tmp, 0o640)
    os.replace(tmp, os.path.join(folder, name))


def prune(folder, today, keep_days):
    removed = 0
    if not os.path.isdir(folder):
        return removed
    for name in os.listdir(folder):
        m = DAY_FILE.match(name)
        if not m:
            continue
        try:
            day = datetime.date.fromisoformat(m.group(1))
        except ValueError:
            continue
        if (today - day).days > keep_days:
            os.remove(os.path.join(folder, name))
            removed += 1
    return removed


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--keep-days", type=int, required=True)
    parser.add_argument("--date", type=datetime.date.fromisoformat)
    parser.add_argument("--today", type=datetime.date.fromisoformat)
    parser.add_argument("sites", nargs="+", metavar="SITE=LOG")
    args = parser.parse_args(argv)
    today = args.today or datetime.date.today()
    date = (args.date or today - datetime.timedelta(days=1)).isoformat()
    for spec in args.sites:
        site, sep, log = spec.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", site) or not log:
            parser.error(f"expected SITE=LOG, got {spec}")
        counts = count(log, date)
        folder = os.path.join(args.out, site)
        write_json(folder, f"{date}.json", {"site": site, "date": date, **counts})
        removed = prune(folder, today, args.keep_days)
        print(f"{site} {date}: {counts['requests']} requests, {len(counts['paths'])} paths; {removed} old files removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`;

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
  return `[Unit]
Description=studyhost: count yesterday's requests per path in nginx's access logs
After=logrotate.service nginx.service
RequiresMountsFor=${PATHS.data}
${ALERT_ON_FAILURE}

[Service]
Type=oneshot
User=${ANALYTICS_USER}
Group=${ANALYTICS_USER}
# nginx's logs are www-data:adm 0640: this service, and only it, reads them as a member of adm.
SupplementaryGroups=adm
UMask=0027
ExecStart=${analyticsCommand(config, analytics)}
TimeoutStartSec=30min
Nice=15
IOSchedulingClass=idle
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${ANALYTICS_DIR}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateNetwork=yes
RestrictAddressFamilies=AF_UNIX
CapabilityBoundingSet=
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
`;
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
      configFile(`${PATHS.units}/${ANALYTICS_UNIT}.timer`, calendarTimer(`studyhost: schedule of the access-log counts (${analytics.schedule})`, toOnCalendar(analytics.schedule))),
    ],
    steps: [
      {
        name: "analytics",
        script: `${requireDataVolume("the access-log counts")}
getent passwd ${ANALYTICS_USER} >/dev/null || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${ANALYTICS_USER}
install -d -o ${ANALYTICS_USER} -g ${ANALYTICS_USER} -m 0750 ${ANALYTICS_DIR}
systemctl daemon-reload
systemctl enable --now ${ANALYTICS_UNIT}.timer`,
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
