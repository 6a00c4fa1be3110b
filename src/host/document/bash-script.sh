#!/bin/bash
# @@PURPOSE@@
# Written by studyhost; edits are overwritten at the next provisioning.
set -Eeuo pipefail
@@BODY@@
