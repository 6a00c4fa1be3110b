"""STAND-IN for camcops_server (CamCOPS's server), for studyhost's end-to-end test only: NOT CamCOPS.

PyPI cannot be reached where the test runs, so this package takes the real one's place with the same
distribution name (camcops_server), the same command (`camcops_server`) and the two subcommands the
camcops preset runs, reading the same configuration file (camcops.conf, configparser's ini format):

  camcops_server upgrade_db --config FILE      the schema made in the MySQL/MariaDB database at [site]
                                               DB_URL (mysql+pymysql://, opened with SQLAlchemy's
                                               create_engine and PyMySQL, as CamCOPS opens it)
  camcops_server serve_gunicorn --config FILE  refuses to start unless the database is at the schema's
                                               version (as CamCOPS checks its Alembic revision), then
                                               serves through gunicorn on [server] HOST:PORT

Without --config, the file named by CAMCOPS_CONFIG_FILE is read, as camcops_server does. See cli.py.
"""
STAND_IN = True
__version__ = "2.4.22"
