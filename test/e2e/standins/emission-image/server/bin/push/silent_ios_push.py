"""STAND-IN for e-mission's bin/push/silent_ios_push.py (not e-mission; sends nothing): `silent_ios_push.py
INTERVAL` reads conf/net/ext_service/push.json and says what it would send."""
import sys

from emission.standin_conf import conf

if len(sys.argv) != 2 or not sys.argv[1].isdigit():
    sys.exit("push stand-in: expected silent_ios_push.py INTERVAL")
push = conf("net/ext_service/push.json")
token = "set" if push.get("server_auth_token") else "missing"
print(f"push stand-in (nothing sent): silent push for the {sys.argv[1]}s interval via {push['provider']}, server token {token}", flush=True)
