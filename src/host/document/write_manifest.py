#!/usr/bin/python3
"""studyhost: the rendered manifest plus what provisioning installed (versions, time)."""
import datetime
import json
import shutil
import subprocess
import sys


def version(*cmd):
    if not shutil.which(cmd[0]):
        return None
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    text = (run.stdout or run.stderr).strip()
    return text.splitlines()[0] if text else None


def os_name():
    for line in open("/etc/os-release", encoding="utf-8"):
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return None


manifest = json.load(open(sys.argv[1], encoding="utf-8"))
manifest["provisionedAt"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
found = {"os": os_name(), "nginx": version("nginx", "-v"), "certbot": version("certbot", "--version"),
         "postgresql": version("psql", "--version"), "python": version("python3", "--version"),
         "docker": version("docker", "--version")}
manifest["versions"] = {name: value for name, value in found.items() if value}
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(manifest, out, indent=2)
