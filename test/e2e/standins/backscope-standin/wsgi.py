"""STAND-IN for backscope (Numberscope's back end), for studyhost's e2e test of the backscope preset
only: NOT backscope. It keeps what the preset relies on: `wsgi:app` for gunicorn, requirements.txt,
a .env in its root read as python-dotenv's load_dotenv() reads it (values for names not already set),
PostgreSQL through psycopg2 at the .env's DATABASE_URI, the schema from `flask db upgrade`
(migrations/), and /api/get_commit answering GIT_REVISION_HASH.

  /api/get_commit       {"short_commit_hash": GIT_REVISION_HASH}
  /api/environment      {"APP_ENVIRONMENT": ...} (stand-in only: shows the .env reached the app)
  /api/write?body=      a row into sequences_seen (the table the migration made)
  /api/read             the rows, as JSON
"""
import json
import os
from urllib.parse import parse_qs

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))


def load_dotenv(path):
    """python-dotenv's load_dotenv for studyhost's NAME="value" lines: set the names not already set."""
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


load_dotenv(os.path.join(HERE, ".env"))


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    query = parse_qs(environ.get("QUERY_STRING", ""))

    def answer(status, value):
        start_response(status, [("Content-Type", "application/json")])
        return [json.dumps(value).encode()]

    if path == "/api/get_commit":
        return answer("200 OK", {"short_commit_hash": os.environ.get("GIT_REVISION_HASH")})
    if path == "/api/environment":
        return answer("200 OK", {"APP_ENVIRONMENT": os.environ.get("APP_ENVIRONMENT")})
    if path in ("/api/write", "/api/read"):
        conn = psycopg2.connect(os.environ["DATABASE_URI"])
        try:
            with conn, conn.cursor() as cur:
                if path == "/api/write":
                    cur.execute("INSERT INTO sequences_seen (body) VALUES (%s)", (query.get("body", [""])[0],))
                    return answer("200 OK", "written")
                cur.execute("SELECT body FROM sequences_seen ORDER BY id")
                return answer("200 OK", [r[0] for r in cur.fetchall()])
        finally:
            conn.close()
    return answer("404 Not Found", {"error": "not found"})
