#!/usr/bin/env python3
"""A local package index (PEP 503 "simple" layout) for studyhost's preset end-to-end test, built with
the standard library only (a wheel is a zip: the package, NAME-VERSION.dist-info/{METADATA, WHEEL,
entry_points.txt, RECORD}). PyPI cannot be reached where the test runs, so it holds:

  bride-of-frankensystem   STAND-IN (bofs-standin/BOFS): `python -m BOFS production.toml [--check-config]`
  studyhost-standin-flask  STAND-IN for the `flask` command (`flask db upgrade`)
  camcops-server           STAND-IN (camcops-standin/camcops_server): `camcops_server upgrade_db|serve_gunicorn`
  gunicorn                 the REAL gunicorn: Debian's python3-gunicorn files on this machine, repacked
  pymysql                  the REAL PyMySQL: Debian's python3-pymysql files, repacked
  sqlalchemy               the REAL SQLAlchemy: Debian's python3-sqlalchemy files (pure Python: without
                           python3-sqlalchemy-ext's C speed-ups, which SQLAlchemy does without), repacked;
                           the camcops_server stand-in opens DB_URL with it, as CamCOPS does
  psycopg2-binary          the REAL psycopg2: Debian's python3-psycopg2 files (its C extension linked to
                           the system's libpq5, where PyPI's psycopg2-binary bundles a libpq), repacked
                           under the name the bofs preset installs; tagged for this machine's CPython

  make_index.py OUT        writes OUT/simple/index.html and OUT/simple/<project>/{index.html, *.whl}
"""
import base64
import glob
import hashlib
import html
import os
import re
import sys
import sysconfig
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEBIAN = "/usr/lib/python3/dist-packages"


def files_under(top, prefix, skip=(".pyc",)):
    """(archive name, bytes) for every file under TOP, without caches (nor names ending in SKIP), named PREFIX/relative."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in sorted(filenames):
            if f.endswith(tuple(skip)):
                continue
            path = os.path.join(dirpath, f)
            with open(path, "rb") as fh:
                out.append((f"{prefix}/{os.path.relpath(path, top)}", fh.read()))
    return out


def wheel(out_dir, name, version, summary, files, console_scripts=(), requires=(), tag=None):
    """A wheel of FILES in OUT/simple/<project>/; pure Python (py3-none-any) unless TAG is given."""
    dist = re.sub(r"[-_.]+", "_", name)
    info = f"{dist}-{version}.dist-info"
    files = list(files)
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    files.append((f"{info}/METADATA", metadata.encode()))
    purelib = "true" if tag is None else "false"
    files.append((f"{info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: studyhost-e2e make_index.py\nRoot-Is-Purelib: {purelib}\nTag: {tag or 'py3-none-any'}\n".encode()))
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
    whl = os.path.join(folder, f"{dist}-{version}-{tag or 'py3-none-any'}.whl")
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in files:
            z.writestr(zipfile.ZipInfo(arc, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    with open(whl, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()
    base = os.path.basename(whl)
    with open(os.path.join(folder, "index.html"), "w") as fh:
        fh.write(f'<!DOCTYPE html>\n<html><body>\n<a href="{html.escape(base)}#sha256={sha}">{html.escape(base)}</a>\n</body></html>\n')
    return project


def debian_package(module, egg, deb, skip=(".pyc",)):
    """(version, files) of Debian's python3 package DEB on this machine: module MODULE, egg-info EGG-*."""
    infos = glob.glob(os.path.join(DEBIAN, f"{egg}-*.egg-info"))
    if not os.path.isdir(os.path.join(DEBIAN, module)) or not infos:
        sys.exit(f"make_index.py: Debian's {deb} is not installed here (apt-get install -y {deb})")
    version = re.search(rf"{re.escape(egg)}-(.+?)(\.egg-info)$", infos[0]).group(1)
    return version, files_under(os.path.join(DEBIAN, module), module, skip)


def cpython_tag():
    """This machine's CPython and platform as a wheel tag (the hosts run the same Debian 12 Python)."""
    abi = f"cp{sys.version_info.major}{sys.version_info.minor}"
    return f"{abi}-{abi}-{sysconfig.get_platform().replace('-', '_').replace('.', '_')}"


def main(out_dir):
    projects = [
        wheel(out_dir, "bride-of-frankensystem", "0.0.1", "STAND-IN for BOFS (studyhost e2e test), not the real package",
              files_under(os.path.join(HERE, "bofs-standin", "BOFS"), "BOFS")),
        wheel(out_dir, "studyhost-standin-flask", "0.0.1", "STAND-IN for the flask command (flask db upgrade), studyhost e2e test",
              files_under(os.path.join(HERE, "flask-standin", "standin_flask"), "standin_flask"), ["flask = standin_flask:main"]),
    ]
    projects.append(wheel(out_dir, "camcops_server", "2.4.22", "STAND-IN for camcops_server (studyhost e2e test), not CamCOPS",
                          files_under(os.path.join(HERE, "camcops-standin", "camcops_server"), "camcops_server"),
                          ["camcops_server = camcops_server.cli:main"], requires=["gunicorn", "SQLAlchemy"]))
    version, files = debian_package("gunicorn", "gunicorn", "python3-gunicorn")
    projects.append(wheel(out_dir, "gunicorn", version, "gunicorn, repacked from Debian's python3-gunicorn (real code)", files,
                          ["gunicorn = gunicorn.app.wsgiapp:run"]))
    version, files = debian_package("pymysql", "PyMySQL", "python3-pymysql")
    projects.append(wheel(out_dir, "PyMySQL", version, "PyMySQL, repacked from Debian's python3-pymysql (real code)", files))
    version, files = debian_package("sqlalchemy", "SQLAlchemy", "python3-sqlalchemy", skip=(".pyc", ".so"))
    projects.append(wheel(out_dir, "SQLAlchemy", version, "SQLAlchemy, repacked from Debian's python3-sqlalchemy (real code, pure Python)", files))
    version, files = debian_package("psycopg2", "psycopg2", "python3-psycopg2")
    projects.append(wheel(out_dir, "psycopg2-binary", version, "psycopg2, repacked from Debian's python3-psycopg2 (real code, linked to the system's libpq5)",
                          files, tag=cpython_tag()))
    with open(os.path.join(out_dir, "simple", "index.html"), "w") as fh:
        fh.write("<!DOCTYPE html>\n<html><body>\n" + "".join(f'<a href="{p}/">{p}</a>\n' for p in projects) + "</body></html>\n")


if __name__ == "__main__":
    main(sys.argv[1])
