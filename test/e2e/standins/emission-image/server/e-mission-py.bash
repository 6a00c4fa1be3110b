#!/bin/bash
# STAND-IN for e-mission's e-mission-py.bash: runs a script with the server's folder on PYTHONPATH.
PYTHONPATH=. exec python "$@"
