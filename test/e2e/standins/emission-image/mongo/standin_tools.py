"""STAND-IN mongodump/mongorestore option parsing (not MongoDB's database tools): exactly the options
studyhost's backup and restore scripts pass (src/host/databases/mongodb.ts); anything else is refused."""
import sys

sys.path.insert(0, "/usr/local/lib/standin-mongo")
from standin_mongo import tools_password  # noqa: E402

FLAGS = {"--archive", "--gzip", "--dryRun", "--quiet"}
VALUES = {"--config", "--username", "--authenticationDatabase", "--db", "--nsInclude"}
MAGIC = "studyhost-e2e-mongo-standin-archive/1"


def parse(tool, allowed):
    opts = {}
    for a in sys.argv[1:]:
        name, eq, value = a.partition("=")
        if name in FLAGS and name in allowed and not eq:
            opts[name] = True
        elif name in VALUES and name in allowed and eq:
            opts[name] = value
        else:
            sys.exit(f"{tool} stand-in: unsupported argument {a!r}")
    for must in ("--config", "--username", "--authenticationDatabase", "--archive", "--gzip"):
        if must not in opts:
            sys.exit(f"{tool} stand-in: expected {must} (studyhost always passes it)")
    auth = {"user": opts["--username"], "password": tools_password(opts["--config"]), "db": opts["--authenticationDatabase"]}
    return opts, auth
