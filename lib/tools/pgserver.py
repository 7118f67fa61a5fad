"""A throwaway PostgreSQL server from Debian's `postgresql` package: a temporary data directory, a loopback port.

For the tests of the shared-server mode and for trying it by hand:

    python -m lib.tools.pgserver            # starts one, prints its URL, stops it on Ctrl-C

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user the package creates.
"""
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from lib.tools.devserver import free_port

SUPERUSER = "voiddesk"


def pg_bin() -> Path:
    """$VOIDDESK_PG_BIN, else the newest /usr/lib/postgresql/N/bin that has initdb."""
    if os.environ.get("VOIDDESK_PG_BIN"):
        return Path(os.environ["VOIDDESK_PG_BIN"])
    found = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (scripts/test.sh does)")
    return found[-1]


class PgServer:
    """One PostgreSQL cluster, up between start() and stop(): in a temporary directory (removed by stop()), or in
    `directory`, which keeps its data from one start to the next (initialised by the first start).

    `durable=False` turns fsync off: for tests, whose data dies with the directory; never for figures in bench."""

    def __init__(self, durable: bool = True, directory: Path | None = None, port: int = 0):
        self.durable = durable
        self.port = port
        self.dir: Path | None = None
        self._keep = directory is not None
        self._directory = directory
        self._as: list[str] = []

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> "PgServer":
        binary = pg_bin()
        if self._keep:
            self.dir = self._directory.resolve()
            self.dir.mkdir(parents=True, exist_ok=True)
        else:
            self.dir = Path(tempfile.mkdtemp(prefix="voiddesk-pg-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        if not (data / "PG_VERSION").exists():
            self._run(str(binary / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                      "--locale", "C.UTF-8", *([] if self._keep else ["--no-sync"]))
        self.port = self.port or free_port()
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
                   + ("" if self.durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"))
        self._run(str(binary / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "server.log"), "-o", options,
                  "-w", "-t", "60", "start")
        return self

    def attach(self) -> "PgServer":
        """This object for a server that another process started in `directory` (to stop it)."""
        self.dir = self._directory.resolve()
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
        return self

    def create_database(self, name: str) -> str:
        """The URL of database `name`, created if it does not exist yet."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            self._run(str(pg_bin() / "pg_ctl"), "-D", str(self.dir / "data"), "-m",
                      "fast" if self._keep else "immediate", "-w", "stop")
        finally:
            if not self._keep:
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "PgServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    with PgServer() as server:
        print(f"PostgreSQL is up: {server.url}\nCreate a database (createdb -h 127.0.0.1 -p {server.port} -U "
              f"{SUPERUSER} voiddesk) and pass VOIDDESK_DB={server.database_url('voiddesk')}. Ctrl-C stops it.",
              flush=True)
        try:
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.exit(main())
