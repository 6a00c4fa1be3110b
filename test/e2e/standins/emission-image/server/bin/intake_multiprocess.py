"""STAND-IN for e-mission's bin/intake_multiprocess.py (not the analysis pipeline): `intake_multiprocess.py
N` logs as conf/log/intake.conf says, counts the records in the database of conf/storage/db.conf and
writes one pipeline_runs record {_id: intake-<time>, processes: N, records: count}."""
import logging
import sys
import time

from emission.standin_conf import Database, logging_from

if len(sys.argv) != 2 or not sys.argv[1].isdigit():
    sys.exit("intake stand-in: expected intake_multiprocess.py N")
logging_from("log/intake.conf")
db = Database()
records = len(db("find", coll="timeseries")["docs"])
run = f"intake-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{int(time.time() * 1000) % 1000:03d}"
db("insert", coll="pipeline_runs", doc={"_id": run, "processes": int(sys.argv[1]), "records": records})
logging.getLogger("intake").info("intake stand-in run %s: %s processes, %s records", run, sys.argv[1], records)
print(f"intake stand-in (not the e-mission pipeline): run {run} with {sys.argv[1]} processes over {records} timeseries records in {db.host}:{db.port}/{db.db}", flush=True)
