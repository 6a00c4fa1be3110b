#!/usr/bin/python3
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
