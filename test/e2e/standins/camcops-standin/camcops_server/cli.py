"""STAND-IN for the `camcops_server` command (studyhost's e2e test only; see __init__.py).

The web app (served by gunicorn, the real one):
  /              the "log in" page (the preset's health path), naming LANGUAGE from camcops.conf
  /write?body=   a row written to the database at DB_URL
  /read          the rows, as JSON
  /request       the scheme and client address as CamCOPS derives them with TRUSTED_PROXY_HEADERS
  /tls           the database session as the server sees it: the account, TLS version and cipher

DB_URL is opened as CamCOPS opens it: SQLAlchemy's create_engine (the real SQLAlchemy, whose PyMySQL
dialect turns the URL's query keys, ssl_* among them, into PyMySQL's arguments). A new connection for
every use (NullPool), as the stand-in did before it used SQLAlchemy.
"""
import argparse
import configparser
import glob
import html
import json
import os
import sys
from urllib.parse import parse_qs

SCHEMA_VERSION = "2.4.22-standin-0001"
STAND_IN = "camcops_server stand-in"


def read_config(path):
    if not path:
        sys.exit(f"{STAND_IN}: no config file: give --config FILE or set CAMCOPS_CONFIG_FILE")
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # CamCOPS's keys are upper case, as written
    with open(path) as f:  # an unreadable file is an error, not an empty config
        parser.read_file(f)
    for section in ("site", "server"):
        if not parser.has_section(section):
            sys.exit(f"{STAND_IN}: {path} has no [{section}] section")
    db_url = parser.get("site", "DB_URL", fallback="")
    if not db_url.startswith("mysql+pymysql://"):
        sys.exit(f"{STAND_IN}: [site] DB_URL must be mysql+pymysql://... (the stand-in speaks MySQL through PyMySQL), got {db_url.split(':')[0]!r}")
    strings = parser.get("site", "EXTRA_STRING_FILES", fallback="")
    if not strings or not glob.glob(strings):
        sys.exit(f"{STAND_IN}: [site] EXTRA_STRING_FILES matches no file: {strings!r}")
    return parser


_engine = None


def connect(cfg):
    """A DBAPI (PyMySQL) connection made by SQLAlchemy from DB_URL; commit what is to stay."""
    global _engine
    if _engine is None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        _engine = create_engine(cfg.get("site", "DB_URL"), poolclass=NullPool)
    return _engine.raw_connection()


def upgrade_db(cfg):
    conn = connect(cfg)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS standin_schema_version (version VARCHAR(64) PRIMARY KEY) ENGINE=InnoDB")
        cur.execute("CREATE TABLE IF NOT EXISTS standin_notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL) ENGINE=InnoDB")
        cur.execute("INSERT IGNORE INTO standin_schema_version VALUES (%s)", (SCHEMA_VERSION,))
        cur.execute("SELECT DATABASE(), @@version")
        db, version = cur.fetchone()
    conn.commit()
    conn.close()
    print(f"{STAND_IN}: upgrade_db: database {db} on MariaDB {version} is at {SCHEMA_VERSION}", flush=True)


def assert_database_ok(cfg):
    conn = connect(cfg)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'standin_schema_version'")
        if cur.fetchone()[0] == 0:
            sys.exit(f"{STAND_IN}: the database has no schema: run camcops_server upgrade_db first")
        cur.execute("SELECT version FROM standin_schema_version")
        if SCHEMA_VERSION not in {r[0] for r in cur.fetchall()}:
            sys.exit(f"{STAND_IN}: the database is not at {SCHEMA_VERSION}: run camcops_server upgrade_db first")
    conn.close()


def application(cfg):
    language = html.escape(cfg.get("site", "LANGUAGE", fallback="en_GB"))
    trusted = set(cfg.get("server", "TRUSTED_PROXY_HEADERS", fallback="").split())

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        query = parse_qs(environ.get("QUERY_STRING", ""))

        def answer(status, body, kind="text/html; charset=utf-8"):
            start_response(status, [("Content-Type", kind)])
            return [body.encode()]

        if path == "/":
            return answer("200 OK", f"<!doctype html><title>CamCOPS: log in</title><h1>CamCOPS: log in</h1>\n<p>{STAND_IN} (language {language})</p>\n")
        if path == "/write":
            conn = connect(cfg)
            with conn.cursor() as cur:
                cur.execute("INSERT INTO standin_notes (body) VALUES (%s)", (query.get("body", [""])[0],))
            conn.commit()
            conn.close()
            return answer("200 OK", "written\n", "text/plain")
        if path == "/read":
            conn = connect(cfg)
            with conn.cursor() as cur:
                cur.execute("SELECT body FROM standin_notes ORDER BY id")
                rows = [r[0] for r in cur.fetchall()]
            conn.close()
            return answer("200 OK", json.dumps(rows), "application/json")
        if path == "/tls":
            conn = connect(cfg)
            with conn.cursor() as cur:
                cur.execute("SELECT CURRENT_USER()")
                account = cur.fetchone()[0]
                cur.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')")
                status = dict(cur.fetchall())
            conn.close()
            return answer("200 OK", json.dumps({"account": account, "ssl_version": status.get("Ssl_version", ""), "ssl_cipher": status.get("Ssl_cipher", "")}), "application/json")
        if path == "/request":
            scheme = environ.get("HTTP_X_FORWARDED_PROTO") if "HTTP_X_FORWARDED_PROTO" in trusted else None
            remote = environ.get("HTTP_X_REAL_IP") if "HTTP_X_REAL_IP" in trusted else None
            return answer("200 OK", json.dumps({"scheme": scheme or environ["wsgi.url_scheme"], "remote": remote or environ.get("REMOTE_ADDR")}), "application/json")
        return answer("404 Not Found", "not found\n", "text/plain")

    return app


def serve_gunicorn(cfg):
    from gunicorn.app.base import BaseApplication

    assert_database_ok(cfg)
    host = cfg.get("server", "HOST", fallback="127.0.0.1")
    port = cfg.getint("server", "PORT", fallback=8000)
    wsgi = application(cfg)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")

        def load(self):
            return wsgi

    print(f"{STAND_IN}: serve_gunicorn on {host}:{port}", file=sys.stderr, flush=True)
    Server().run()


def main(argv=None):
    p = argparse.ArgumentParser(prog="camcops_server", description=f"{STAND_IN} (not CamCOPS)")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("upgrade_db", "serve_gunicorn"):
        s = sub.add_parser(name)
        s.add_argument("--config", default=os.environ.get("CAMCOPS_CONFIG_FILE"))
    args = p.parse_args(argv)
    cfg = read_config(args.config)
    if args.command == "upgrade_db":
        upgrade_db(cfg)
    else:
        serve_gunicorn(cfg)
    return 0
