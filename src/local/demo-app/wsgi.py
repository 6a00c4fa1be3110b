"""studyhost's demo study: a short questionnaire that `studyhost local` serves when a stack's app is
an example placeholder, so a fresh machine boots a real, working study server with nothing of its own.

A WSGI app (gunicorn serves `wsgi:app`, as the example stacks start theirs) on the study's database
from DATABASE_URL: SQLite (`sqlite:////path`) or PostgreSQL (`postgresql://...`, through the
distribution's psycopg2). The standard library otherwise: nothing from PyPI.

  GET  /                 the questionnaire
  POST /answers          one participant's answers: 201 and a thank-you page, or 400 saying what is wrong
  GET  /admin/answers    every answer as JSON (nginx lets only studyhost:adminCidrs reach /admin)
  GET  /healthz, /health 200 "ok" once the database answers
"""
import html
import json
import os
import threading
from urllib.parse import parse_qs

QUESTIONS = [
    ("sleep", "How many hours did you sleep last night?", range(0, 25)),
    ("mood", "How do you feel today? (1: very bad, 5: very good)", range(1, 6)),
]
MAX_BODY = 4096
_schema_ready = threading.Event()


def connect():
    url = os.environ["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        import sqlite3

        db = sqlite3.connect(url[len("sqlite:///"):], timeout=30)
        return db, "?", "INTEGER PRIMARY KEY AUTOINCREMENT"
    import psycopg2

    return psycopg2.connect(url), "%s", "SERIAL PRIMARY KEY"


def open_db():
    db, mark, serial = connect()
    if not _schema_ready.is_set():
        db.cursor().execute(
            f"CREATE TABLE IF NOT EXISTS demo_answers (id {serial}, answered_at TEXT NOT NULL, sleep INTEGER NOT NULL, mood INTEGER NOT NULL)"
        )
        db.commit()
        _schema_ready.set()
    return db, mark


def respond(start_response, status, body, content_type="text/html; charset=utf-8", headers=()):
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers])
    return [data]


def page(title, body):
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><main><h1>{html.escape(title)}</h1>
{body}
<p class="note">studyhost's demo study, served by gunicorn behind nginx on the stack's database.</p>
</main></body></html>
"""


def questionnaire(error=""):
    fields = "\n".join(
        f'<label>{html.escape(text)} <input name="{name}" type="number" min="{r.start}" max="{r.stop - 1}" required></label>'
        for name, text, r in QUESTIONS
    )
    warning = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return page("A short questionnaire", f'{warning}<form method="post" action="/answers">\n{fields}\n<button>Send</button></form>')


def read_answers(environ):
    """The posted answers as integers, or a message naming what is wrong."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None, "a bad Content-Length"
    if length > MAX_BODY:
        return None, "too much data"
    form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
    answers = {}
    for name, text, allowed in QUESTIONS:
        value = form.get(name, [""])[0].strip()
        if not value.lstrip("-").isdigit() or int(value) not in allowed:
            return None, f"{text} needs a whole number from {allowed.start} to {allowed.stop - 1}"
        answers[name] = int(value)
    return answers, None


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    method = environ.get("REQUEST_METHOD", "GET")
    if path in ("/healthz", "/health"):
        db, _ = open_db()
        db.cursor().execute("SELECT 1")
        db.close()
        return respond(start_response, "200 OK", "ok\n", "text/plain; charset=utf-8")
    if path == "/" and method in ("GET", "HEAD"):
        return respond(start_response, "200 OK", questionnaire())
    if path == "/answers" and method == "POST":
        answers, error = read_answers(environ)
        if error:
            return respond(start_response, "400 Bad Request", questionnaire(error))
        db, mark = open_db()
        cur = db.cursor()
        values = (answers["sleep"], answers["mood"])
        if mark == "%s":
            cur.execute("INSERT INTO demo_answers (answered_at, sleep, mood) VALUES (now()::text, %s, %s) RETURNING id", values)
            answer_id = cur.fetchone()[0]
        else:
            cur.execute("INSERT INTO demo_answers (answered_at, sleep, mood) VALUES (datetime('now'), ?, ?)", values)
            answer_id = cur.lastrowid
        db.commit()
        db.close()
        return respond(start_response, "201 Created", page("Thank you", "<p>Your answers are saved.</p>"), headers=[("X-Answer-Id", str(answer_id))])
    if path == "/admin/answers" and method == "GET":
        db, _ = open_db()
        cur = db.cursor()
        cur.execute("SELECT id, answered_at, sleep, mood FROM demo_answers ORDER BY id")
        rows = [{"id": r[0], "answeredAt": r[1], "sleep": r[2], "mood": r[3]} for r in cur.fetchall()]
        db.close()
        return respond(start_response, "200 OK", json.dumps(rows) + "\n", "application/json")
    return respond(start_response, "404 Not Found", page("Not found", "<p>There is nothing here.</p>"))


application = app
