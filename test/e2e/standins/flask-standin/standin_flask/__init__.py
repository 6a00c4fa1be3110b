"""STAND-IN for Flask's `flask` command (with Flask-Migrate's `flask db upgrade`), for studyhost's e2e
test of the backscope preset only: NOT Flask. PyPI cannot be reached where the test runs.

`flask db upgrade`, run in the app's folder: loads ./.env as Flask's CLI does through python-dotenv
(values for names not already set), connects to PostgreSQL at DATABASE_URI with psycopg2, and applies
./migrations/*.sql in name order, each once, recording it in alembic_version as Flask-Migrate does.
"""
import glob
import os
import sys


def load_dotenv(path):
    """What python-dotenv's load_dotenv(path) does for studyhost's NAME="value" lines: set unset names."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            name, value = line.split("=", 1)
            if len(value) >= 2 and value[0] == value[-1] == '"':
                out, i, value = [], 0, value[1:-1]
                while i < len(value):
                    if value[i] == "\\" and i + 1 < len(value):
                        out.append("\n" if value[i + 1] == "n" else value[i + 1])
                        i += 2
                    else:
                        out.append(value[i])
                        i += 1
                value = "".join(out)
            os.environ.setdefault(name.strip(), value)


def upgrade():
    import psycopg2

    load_dotenv(os.path.join(os.getcwd(), ".env"))
    conn = psycopg2.connect(os.environ["DATABASE_URI"])
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(32) PRIMARY KEY)")
        cur.execute("SELECT version_num FROM alembic_version")
        done = {r[0] for r in cur.fetchall()}
        for path in sorted(glob.glob(os.path.join(os.getcwd(), "migrations", "*.sql"))):
            version = os.path.basename(path)[: -len(".sql")]
            if version in done:
                continue
            with open(path) as f:
                cur.execute(f.read())
            cur.execute("INSERT INTO alembic_version VALUES (%s)", (version,))
            print(f"flask stand-in: db upgrade applied {version}")
    conn.close()


def main():
    if sys.argv[1:] == ["db", "upgrade"]:
        upgrade()
        return 0
    print("usage: flask db upgrade  (the stand-in knows no other command)", file=sys.stderr)
    return 2
