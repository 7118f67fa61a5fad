#!/usr/bin/env bash
# Set everything up and start VoidDesk at http://localhost:8501 on a demo database.
#   scripts/start.sh              uses data/voiddesk.duckdb (or $VOIDDESK_DB: a file, or postgresql://… for a
#                                 shared PostgreSQL server), seeded when empty
#   ORDERS=50000 scripts/start.sh a smaller demo
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -m lib.cli init-db
.venv/bin/python -m lib.cli seed --if-empty --orders "${ORDERS:-200000}"
exec .venv/bin/python -m streamlit run app.py --server.port "${PORT:-8501}"
