"""STAND-IN for bride-of-frankensystem (BOFS), for studyhost's end-to-end test only: NOT the real BOFS.

PyPI cannot be reached where the test runs, so this package takes the real one's place with the same
distribution name, module and command line (`python -m BOFS production.toml [--check-config]`), the
same production.toml keys (TITLE, SECRET_KEY, PORT, SQLALCHEMY_DATABASE_URI, ADMIN_PASSWORD,
USE_ADMIN, PAGE_LIST, ...), the same port and bind address (0.0.0.0), /admin, and a database at
SQLALCHEMY_DATABASE_URI (sqlite:///, or postgresql:// through psycopg2). See __main__.py.
"""
STAND_IN = True
__version__ = "0.0.1"
