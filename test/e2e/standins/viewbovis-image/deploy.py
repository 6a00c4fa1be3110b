"""STAND-IN for ViewBovis's `deploy:app` (not the APHA application): a WSGI app that the image's REAL
gunicorn (Debian's) serves, and that shows what the host gave it: the image it stands in for
(STANDIN_IMAGE, set when the test imports the image), and the production data under /data that the
host's boot-time fetch mirrored from the bucket.

  /                   a page naming the stand-in and its image, and listing the files under /data
  /data/<path>        one file of /data, as it is
"""
import html
import os

DATA = "/data"


def data_files():
    found = []
    for folder, _, files in os.walk(DATA):
        for name in files:
            found.append(os.path.relpath(os.path.join(folder, name), DATA))
    return sorted(found)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    image = os.environ.get("STANDIN_IMAGE", "(unknown)")
    if path == "/":
        files = "".join(f"<li>{html.escape(f)}</li>" for f in data_files())
        body = f"<h1>ViewBovis STAND-IN</h1><p>image {html.escape(image)}</p><ul>{files}</ul>\n".encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]
    if path.startswith("/data/"):
        rel = path[len("/data/"):]
        target = os.path.realpath(os.path.join(DATA, rel))
        if target.startswith(DATA + "/") and os.path.isfile(target):
            with open(target, "rb") as f:
                body = f.read()
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
            return [body]
    body = b"not found (ViewBovis stand-in)\n"
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
