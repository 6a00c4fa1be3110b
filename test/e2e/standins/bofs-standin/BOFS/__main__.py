"""STAND-IN for BOFS's `python -m BOFS production.toml [--check-config]` (studyhost's e2e test only).

Reads the TOML file named on the command line (tomllib). With --check-config: checks the keys BOFS
needs, says so on stdout and exits 0, or names what is wrong and exits 1. Without: serves on PORT,
bound to 0.0.0.0 as the real one does in production, with the standard library's wsgiref:
  /            TITLE and the PAGE_LIST names (what the test reads to know production.toml was used)
  /write?body= a row written to the database at SQLALCHEMY_DATABASE_URI: sqlite:///PATH, or PostgreSQL at
               postgresql://... through psycopg2 (what the psycopg2-binary package installs), as
               Flask-SQLAlchemy takes either
  /read        the rows, as JSON
  /admin       a login form; ?password=ADMIN_PASSWORD logs in (USE_ADMIN must be true)
"""
import html
import json
import sqlite3
import sys
import tomllib
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

REQUIRED = ["TITLE", "SECRET_KEY", "PORT", "SQLALCHEMY_DATABASE_URI", "ADMIN_PASSWORD"]


def problems(cfg):
    out = [f"{k} is missing" for k in REQUIRED if cfg.get(k) in (None, "")]
    for k, v in cfg.items():
        if isinstance(v, str) and "${" in v:
            out.append(f"{k} holds an unsubstituted variable: {v}")
    uri = cfg.get("SQLALCHEMY_DATABASE_URI", "")
    if uri and not uri.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg2://")):
        out.append(f"SQLALCHEMY_DATABASE_URI: the stand-in supports sqlite:/// and postgresql:// only, got {uri.split(':')[0]}")
    if not isinstance(cfg.get("PORT"), int):
        out.append("PORT must be an integer")
    return out


class Database:
    """One connection to SQLite or PostgreSQL with the table made; `run` takes ? placeholders for both."""

    def __init__(self, uri):
        if uri.startswith("sqlite:///"):
            self.conn, self.mark = sqlite3.connect(uri[len("sqlite:///"):]), "?"
            key = "INTEGER PRIMARY KEY"
        else:
            import psycopg2  # SQLAlchemy's default PostgreSQL driver; "postgresql+psycopg2://" names it

            self.conn, self.mark = psycopg2.connect("postgresql://" + uri.split("://", 1)[1]), "%s"
            key = "SERIAL PRIMARY KEY"
        self.run(f"CREATE TABLE IF NOT EXISTS participant_notes (id {key}, body TEXT NOT NULL)")

    def run(self, sql, args=()):
        cur = self.conn.cursor()
        cur.execute(sql.replace("?", self.mark), args)
        rows = cur.fetchall() if cur.description else []
        self.conn.commit()
        return rows

    def close(self):
        self.conn.close()


def database(cfg):
    return Database(cfg["SQLALCHEMY_DATABASE_URI"])


def application(cfg):
    title = html.escape(str(cfg["TITLE"]))
    pages = ", ".join(html.escape(str(p.get("name"))) for p in cfg.get("PAGE_LIST", []))

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        query = parse_qs(environ.get("QUERY_STRING", ""))

        def answer(status, body, kind="text/html; charset=utf-8"):
            start_response(status, [("Content-Type", kind)])
            return [body.encode()]

        if path == "/":
            return answer("200 OK", f"<!doctype html><title>{title}</title><h1>{title}</h1>\n<p>Pages: {pages}</p>\n<p>BOFS stand-in</p>\n")
        if path == "/write":
            db = database(cfg)
            db.run("INSERT INTO participant_notes (body) VALUES (?)", (query.get("body", [""])[0],))
            db.close()
            return answer("200 OK", "written\n", "text/plain")
        if path == "/read":
            db = database(cfg)
            rows = [r[0] for r in db.run("SELECT body FROM participant_notes ORDER BY id")]
            db.close()
            return answer("200 OK", json.dumps(rows), "application/json")
        if path == "/admin" or path.startswith("/admin/"):
            if not cfg.get("USE_ADMIN"):
                return answer("404 Not Found", "no admin\n", "text/plain")
            given = query.get("password", [None])[0]
            if given is None:
                return answer("200 OK", "<!doctype html><title>Admin</title><form>BOFS stand-in admin: password <input name=password type=password></form>\n")
            if given == cfg["ADMIN_PASSWORD"]:
                return answer("200 OK", "BOFS stand-in admin: logged in\n", "text/plain")
            return answer("403 Forbidden", "BOFS stand-in admin: wrong password\n", "text/plain")
        return answer("404 Not Found", "not found\n", "text/plain")

    return app


class Quiet(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("BOFS stand-in: " + (fmt % args) + "\n")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        print("usage: python -m BOFS CONFIG.toml [--check-config]  (stand-in)", file=sys.stderr)
        return 2
    with open(args[0], "rb") as f:
        cfg = tomllib.load(f)
    wrong = problems(cfg)
    if "--check-config" in argv:
        if wrong:
            print(f"BOFS stand-in --check-config: {args[0]} is NOT valid: " + "; ".join(wrong))
            return 1
        database(cfg).close()
        print(f"BOFS stand-in --check-config: {args[0]} is valid (TITLE={cfg['TITLE']!r}, PORT={cfg['PORT']})")
        return 0
    if wrong:
        print("BOFS stand-in: " + "; ".join(wrong), file=sys.stderr)
        return 1
    database(cfg).close()
    # Production mode binds to 0.0.0.0 at the port of the config file (the guide, "Starting the Production Server").
    server = make_server("0.0.0.0", cfg["PORT"], application(cfg), handler_class=Quiet)
    print(f"BOFS stand-in: serving {cfg['TITLE']!r} on 0.0.0.0:{cfg['PORT']}", file=sys.stderr, flush=True)
    server.serve_forever()
    return 0


sys.exit(main(sys.argv[1:]))
