"""STAND-IN for e-mission's emission/net/api/cfc_webapp.py (not e-mission): serves HTTP on the host and
port of conf/net/api/webserver.conf, logs as conf/log/webserver.conf says, and keeps records in the
database of conf/storage/db.conf's timeseries.url (the stand-in mongod's protocol, over the network).

  /                               a page naming the stand-in, its image, auth method and database host
  /write?coll=C&id=ID&value=V     inserts {_id: ID, value: V} into C (default timeseries); JSON reply
  /read?coll=C&id=ID              the documents of C (with _id ID); JSON
  /delete?coll=C&id=ID            deletes them; JSON
Every JSON reply also has the address the database saw the request from (`peer`) and its own (`server`).
"""
import json
import logging
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from emission.standin_conf import Database, conf, logging_from

logging_from("log/webserver.conf")
server_conf = conf("net/api/webserver.conf")["server"]
db = Database()
log = logging.getLogger("cfc_webapp")


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        log.info("%s %s", self.address_string(), fmt % args)

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        coll = q.get("coll", "timeseries")
        try:
            if u.path == "/":
                page = "<h1>e-mission server STAND-IN</h1><p>image %s</p><p>auth %s</p><p>database %s:%s/%s</p>\n" % (os.environ.get("STANDIN_IMAGE", "(unknown)"), server_conf["auth"], db.host, db.port, db.db)
                return self.reply(200, page, "text/html; charset=utf-8")
            if u.path == "/write":
                r = db("insert", coll=coll, doc={"_id": q["id"], "value": q.get("value", "")})
            elif u.path == "/read":
                r = db("find", coll=coll, filter={"_id": q["id"]} if "id" in q else {})
            elif u.path == "/delete":
                r = db("delete", coll=coll, filter={"_id": q["id"]})
            else:
                return self.reply(404, {"error": "not found (e-mission stand-in)"})
        except Exception as e:  # noqa: BLE001
            log.error("database error: %s", e)
            return self.reply(500, {"error": str(e)})
        log.info("%s %s %s", u.path, coll, q.get("id"))
        self.reply(200, {**r, "database": f"{db.host}:{db.port}", "resolved": socket.gethostbyname(db.host)})


# As PID 1 in its container Python would ignore SIGTERM, and every `docker stop` would wait out its
# --time (20 s) before killing it: a stop ends the stand-in at once instead.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
host, port = server_conf["host"], int(server_conf["port"])
log.info("e-mission stand-in: serving on %s:%s, auth %s, database %s:%s/%s", host, port, server_conf["auth"], db.host, db.port, db.db)
print(f"e-mission server STAND-IN (not e-mission): serving on {host}:{port}", flush=True)
ThreadingHTTPServer((host, port), Handler).serve_forever()
