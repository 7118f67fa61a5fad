#!/usr/bin/env bash
# A team's setup on one machine, for a demo: PostgreSQL (Debian's postgresql), two app replicas behind nginx
# (Debian's nginx) with sticky sessions, and the mail sender as a job beside them (lib/tools/cluster.py).
#   scripts/cluster.sh start [--replicas N] [--port 8500] [--orders 50000]    then open http://127.0.0.1:8500
#   scripts/cluster.sh status
#   scripts/cluster.sh stop                                                    stops what start started
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "start" ] && { ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] \
   || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # A policy-rc.d keeps the packages from starting system-wide services of their own (ports 80 and 5432).
  OWN_POLICY=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    echo 'exit 101' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; OWN_POLICY=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx postgresql >/dev/null
  [ -z "$OWN_POLICY" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m lib.tools.cluster "$@"
