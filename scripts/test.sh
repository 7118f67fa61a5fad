#!/usr/bin/env bash
# Set everything up that the tests need (Python packages, Debian's chromium for the browser tests, Debian's
# postgresql and nginx for the shared-server tests, which start a throwaway server and proxy of their own) and run
# the whole suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -k search, or scripts/test.sh --backend=postgresql
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
   || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ ! -x /usr/sbin/nginx ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # A policy-rc.d keeps the packages from starting system-wide services of their own (ports 80 and 5432).
  OWN_POLICY=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    echo 'exit 101' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; OWN_POLICY=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk postgresql nginx >/dev/null
  [ -z "$OWN_POLICY" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
# Two worker processes (pytest-xdist), one per core, handed a test module at a time; the browser tests go to one of
# them together, first, and the two-replica browser module to the other (pytest.ini, tests/conftest.py). Measured
# 2026-12-06 on this 2-core machine: 4:39 with two workers against 5:03-5:09 with three (a third worker only
# crowded the browsers and servers). VOIDDESK_TEST_WORKERS sets another count; a -n among the arguments wins
# (-n 0: one process). pytest exits 5 when it collected no test, so an empty run fails too.
exec .venv/bin/python -m pytest -n "${VOIDDESK_TEST_WORKERS:-2}" "$@"
