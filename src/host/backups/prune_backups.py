#!/usr/bin/python3
"""studyhost: prune backups to the newest of each of the last N days, weeks and months."""
import argparse
import datetime
import os
import re
import sys

STAMP = re.compile(r"-(\d{8}T\d{6}Z)\.(dump|sqlite3)$")


def kept(stamps, daily, weekly, monthly):
    """The stamps to keep, from datetimes (any order)."""
    keep = set()
    for count, period in ((daily, lambda t: t.date()), (weekly, lambda t: t.isocalendar()[:2]), (monthly, lambda t: (t.year, t.month))):
        newest = {}
        for t in stamps:
            key = period(t)
            if key not in newest or t > newest[key]:
                newest[key] = t
        keep.update(newest[k] for k in sorted(newest, reverse=True)[:count])
    if stamps:
        keep.add(max(stamps))
    return keep


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory")
    parser.add_argument("--daily", type=int, required=True)
    parser.add_argument("--weekly", type=int, required=True)
    parser.add_argument("--monthly", type=int, required=True)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    files = {}
    for name in os.listdir(args.directory):
        match = STAMP.search(name)
        if match:
            files[name] = datetime.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ")
    keep = kept(list(files.values()), args.daily, args.weekly, args.monthly)
    for name, stamp in sorted(files.items()):
        if stamp not in keep:
            print(f"pruning {name}")
            if not args.dry_run:
                os.remove(os.path.join(args.directory, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
