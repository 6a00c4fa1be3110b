"""A stand-in study app for the end-to-end tests: a WSGI app that gunicorn serves on the booted host.

It answers / and /health, and writes then reads rows in the study's database through DATABASE_URL
(SQLite on the small tier, PostgreSQL otherwise), so a test can prove that a request through nginx
reaches the database. Only the standard library and the distribution's psycopg2: nothing from PyPI,
which the test machines cannot reach.
"""
import json
import os
from urllib.parse import parse_qs, unquote


def connect():
    url = os.environ["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        import sqlite3

        return sqlite3.connect(url[len("sqlite:///"):]), "?"
    import psycopg2

    return psycopg2.connect(url), "%s"


def ensure_table(db):
    cur = db.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)" if "sqlite" in type(db).__module__ else "CREATE TABLE IF NOT EXISTS notes (id SERIAL PRIMARY KEY, body TEXT NOT NULL)")
    db.commit()


def respond(start_response, status, body, content_type="text/plain; charset=utf-8"):
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path in ("/", "/health"):
        return respond(start_response, "200 OK", "studyhost e2e app: ok\n")
    if path == "/headers":
        seen = {k: v for k, v in environ.items() if k.startswith("HTTP_X_")}
        return respond(start_response, "200 OK", json.dumps(seen), "application/json")
    if path == "/write":
        body = unquote(parse_qs(environ.get("QUERY_STRING", "")).get("body", [""])[0])
        db, mark = connect()
        ensure_table(db)
        db.cursor().execute(f"INSERT INTO notes (body) VALUES ({mark})", (body,))
        db.commit()
        return respond(start_response, "200 OK", "written\n")
    if path == "/read":
        db, _ = connect()
        ensure_table(db)
        cur = db.cursor()
        cur.execute("SELECT body FROM notes ORDER BY id")
        return respond(start_response, "200 OK", json.dumps([row[0] for row in cur.fetchall()]), "application/json")
    return respond(start_response, "404 Not Found", "not found\n")


application = app
