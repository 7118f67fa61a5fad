"""Temporary folders of a process's own (lib.private_folder): a killed process's are removed by the next one."""
import subprocess
import sys
import tempfile
from pathlib import Path

from lib.private_folder import private_folder


def test_a_folder_left_by_a_process_that_is_gone_is_removed_and_a_live_ones_kept():
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = Path(tempfile.gettempdir()) / f"voiddesk-unittest-{int(ended.stdout)}-x1"
    left.mkdir()
    (left / "snapshot.duckdb").write_bytes(b"held data")
    mine = private_folder("unittest")
    assert not left.exists() and mine.exists() and mine.stat().st_mode & 0o777 == 0o700
    again = private_folder("unittest")                 # this process is alive: its folder stays
    assert mine.exists() and again.exists() and again != mine
