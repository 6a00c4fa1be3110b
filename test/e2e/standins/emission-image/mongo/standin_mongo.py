"""STAND-IN for MongoDB's wire protocol (not MongoDB, not BSON): the client side of the stand-in mongod's
own trivial protocol, shared by the stand-in mongosh/mongodump/mongorestore and the stand-in e-mission
server. One TCP connection per request: one JSON line sent, one JSON line back.

  request  {"standin": PROTOCOL, "op": ..., "auth": {"user", "password", "db"} (optional), ...}
  reply    {"ok": 1, ...} or {"ok": 0, "errmsg": ...}
"""
import json
import socket

PROTOCOL = "studyhost-e2e-mongo-standin/1"


class StandinError(Exception):
    pass


def call(host, port, op, auth=None, **fields):
    request = {"standin": PROTOCOL, "op": op, **fields}
    if auth:
        request["auth"] = auth
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall((json.dumps(request) + "\n").encode())
        f = s.makefile("rb")
        line = f.readline()
    if not line:
        raise StandinError("the stand-in mongod closed the connection")
    reply = json.loads(line)
    if not reply.get("ok"):
        raise StandinError(reply.get("errmsg", "error"))
    return reply


def tools_password(config_path):
    """The password line of a mongodump/mongorestore --config YAML file (studyhost writes `password: "JSON"`)."""
    with open(config_path) as f:
        for line in f:
            if line.startswith("password:"):
                return json.loads(line.split(":", 1)[1].strip())
    raise StandinError(f"no password in {config_path}")
