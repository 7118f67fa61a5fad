"""The multi-user load test itself works end to end (the real figures come from a longer run: README)."""
import json
import subprocess
import sys

import pytest

from lib.tools.devserver import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_short_load_run_completes_every_kind_of_action_without_errors(tmp_path):
    run = subprocess.run([sys.executable, "-m", "lib.tools.loadtest", "--users", "3", "--duration", "20",
                          "--orders", "5000", "--cache-dir", str(tmp_path), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    result = json.loads(run.stdout)
    assert run.returncode == 0, result
    assert result["errors"] == 0
    assert result["server_warnings"] == 0, result["first_server_warnings"]
    assert {"sign_in", "void", "search", "open_order"} <= set(result["actions"])
    assert all(a["ok"] > 0 for a in result["actions"].values())
