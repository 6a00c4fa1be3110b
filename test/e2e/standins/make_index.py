#!/usr/bin/env python3
"""A local package index (PEP 503 "simple" layout) for studyhost's preset end-to-end test, built with
the standard library only (a wheel is a zip: the package, NAME-VERSION.dist-info/{METADATA, WHEEL,
entry_points.txt, RECORD}). PyPI cannot be reached where the test runs, so it holds:

  bride-of-frankensystem   STAND-IN (bofs-standin/BOFS): `python -m BOFS production.toml [--check-config]`
  studyhost-standin-flask  STAND-IN for the `flask` command (`flask db upgrade`)
  gunicorn                 the REAL gunicorn: Debian's python3-gunicorn files on this machine, repacked

  make_index.py OUT        writes OUT/simple/index.html and OUT/simple/<project>/{index.html, *.whl}
"""
import base64
import glob
import hashlib
import html
import os
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEBIAN = "/usr/lib/python3/dist-packages"


def files_under(top, prefix):
    """(archive name, bytes) for every file under TOP, without caches, named PREFIX/relative."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in sorted(filenames):
            if f.endswith(".pyc"):
                continue
            path = os.path.join(dirpath, f)
            with open(path, "rb") as fh:
                out.append((f"{prefix}/{os.path.relpath(path, top)}", fh.read()))
    return out


def wheel(out_dir, name, version, summary, files, console_scripts=()):
    dist = re.sub(r"[-_.]+", "_", name)
    info = f"{dist}-{version}.dist-info"
    files = list(files)
    files.append((f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n".encode()))
    files.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: studyhost-e2e make_index.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
    if console_scripts:
        files.append((f"{info}/entry_points.txt", ("[console_scripts]\n" + "".join(f"{s}\n" for s in console_scripts)).encode()))
    record = []
    for arc, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arc},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    project = re.sub(r"[-_.]+", "-", name).lower()
    folder = os.path.join(out_dir, "simple", project)
    os.makedirs(folder, exist_ok=True)
    whl = os.path.join(folder, f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in files:
            z.writestr(zipfile.ZipInfo(arc, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    with open(whl, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()
    base = os.path.basename(whl)
    with open(os.path.join(folder, "index.html"), "w") as fh:
        fh.write(f'<!DOCTYPE html>\n<html><body>\n<a href="{html.escape(base)}#sha256={sha}">{html.escape(base)}</a>\n</body></html>\n')
    return project


def debian_gunicorn():
    infos = glob.glob(os.path.join(DEBIAN, "gunicorn-*.egg-info"))
    if not os.path.isdir(os.path.join(DEBIAN, "gunicorn")) or not infos:
        sys.exit("make_index.py: Debian's gunicorn is not installed here (apt-get install -y python3-gunicorn)")
    version = re.search(r"gunicorn-(.+)\.egg-info$", infos[0]).group(1)
    return version, files_under(os.path.join(DEBIAN, "gunicorn"), "gunicorn")


def main(out_dir):
    projects = [
        wheel(out_dir, "bride-of-frankensystem", "0.0.1", "STAND-IN for BOFS (studyhost e2e test), not the real package",
              files_under(os.path.join(HERE, "bofs-standin", "BOFS"), "BOFS")),
        wheel(out_dir, "studyhost-standin-flask", "0.0.1", "STAND-IN for the flask command (flask db upgrade), studyhost e2e test",
              files_under(os.path.join(HERE, "flask-standin", "standin_flask"), "standin_flask"), ["flask = standin_flask:main"]),
    ]
    version, files = debian_gunicorn()
    projects.append(wheel(out_dir, "gunicorn", version, "gunicorn, repacked from Debian's python3-gunicorn (real code)", files,
                          ["gunicorn = gunicorn.app.wsgiapp:run"]))
    with open(os.path.join(out_dir, "simple", "index.html"), "w") as fh:
        fh.write("<!DOCTYPE html>\n<html><body>\n" + "".join(f'<a href="{p}/">{p}</a>\n' for p in projects) + "</body></html>\n")


if __name__ == "__main__":
    main(sys.argv[1])
