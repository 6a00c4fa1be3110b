# shellcheck shell=sh
# STAND-IN for e-mission's setup/activate.sh (not conda): puts the stand-in environment's `python`
# (Debian's python3) first on PATH, as activating the emission conda environment would.
PATH="/usr/src/app/setup/standin-env/bin:$PATH"
export PATH
