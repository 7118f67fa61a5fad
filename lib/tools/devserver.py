"""Start a real VoidDesk server on a given database, and the browser settings that drive it headless.

Shared by the browser tests (tests/e2e) and the multi-user load test (lib.tools.loadtest).
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from lib.db import is_server_url

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("VOIDDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_file: Path | str, env_extra: dict | None = None, timeout: float = 60, *,
                 port: int | None = None, secrets: Path | None = None) -> tuple[subprocess.Popen, str]:
    """streamlit run app.py on 127.0.0.1 and a free port (or `port`), on `db_file` (a DuckDB file or a PostgreSQL
    URL); returns (process, base URL) once healthy. Streamlit reads the secrets file `secrets` (e.g. an [auth]
    section pointing st.login at lib.tools.oidc_provider), else none: never the .streamlit/secrets.toml of whoever
    runs the tests, whose [auth] or [smtp] would change what the server does.

    The server's output goes to `<db_file>.server.log`, or for a PostgreSQL URL to voiddesk-<port>.server.log in
    the temp dir (a pipe nobody reads would fill up and stall the server)."""
    port = port or free_port()
    env = {**os.environ, "VOIDDESK_DB": str(db_file), **(env_extra or {})}
    if secrets is None:   # Streamlit takes only a .toml file (or a folder of them): an empty one
        secrets = Path(tempfile.gettempdir()) / "voiddesk-no-secrets.toml"
        secrets.touch()
    extra = ["--secrets.files", str(secrets)]
    log_path = (Path(tempfile.gettempdir()) / f"voiddesk-{port}.server.log" if is_server_url(str(db_file))
                else Path(f"{db_file}.server.log"))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log_path.read_text(errors="replace"))
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not start within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
