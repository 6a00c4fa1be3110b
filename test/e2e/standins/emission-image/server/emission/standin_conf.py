"""STAND-IN helpers (not e-mission): the conf files as e-mission reads them, relative to the server's
folder (the image's WORKDIR, where studyhost mounts them), and the database of conf/storage/db.conf."""
import json
import logging.config
import os
import sys
from urllib.parse import parse_qs, unquote, urlsplit

sys.path.insert(0, "/usr/local/lib/standin-mongo")
from standin_mongo import call  # noqa: E402


def conf(path):
    with open(os.path.join("conf", path)) as f:
        return json.load(f)


def logging_from(path):
    """conf/log/<name>.conf: a dictConfig (e-mission reads it as a Python literal; studyhost's is also JSON)."""
    logging.config.dictConfig(conf(path))


class Database:
    """The database of conf/storage/db.conf's timeseries.url (mongodb://user:password@host:port/db?authSource=...)."""

    def __init__(self):
        url = conf("storage/db.conf")["timeseries"]["url"]
        u = urlsplit(url)
        if u.scheme != "mongodb":
            raise ValueError(f"db.conf: not a mongodb URL: {u.scheme}")
        self.host, self.port = u.hostname, u.port or 27017
        self.db = u.path.lstrip("/")
        self.auth = {"user": unquote(u.username or ""), "password": unquote(u.password or ""), "db": parse_qs(u.query).get("authSource", [self.db])[0]}

    def __call__(self, op, **fields):
        return call(self.host, self.port, op, self.auth, db=self.db, **fields)
