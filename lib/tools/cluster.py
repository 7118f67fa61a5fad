"""A team's setup on one machine, for a demo (issue #14 §6): PostgreSQL from Debian's `postgresql` package, several
app replicas, nginx (Debian's `nginx`) in front of them with sticky sessions, and the mail sender running beside
them as a scheduled CLI job.

    scripts/cluster.sh start     # python -m lib.tools.cluster start [--replicas 2] [--port 8500] [--orders 50000]
    scripts/cluster.sh status
    scripts/cluster.sh stop      # stops everything start started; the data stays for the next start

Everything lives in data/cluster/ ($VOIDDESK_CLUSTER_DIR): pg/ (PostgreSQL's data directory), nginx.conf, logs/,
and state.json (what runs: process ids, ports, the database URL). With VOIDDESK_DB=postgresql://… the replicas use
that server instead of starting one.

Streamlit keeps a user's session in the process that served the page, over one WebSocket, so every request of one
browser must reach the same replica: nginx gives a new browser a replica (split_clients) and a cookie naming it,
and routes by that cookie afterwards. Open-source nginx has no `sticky` directive; a cookie and a map do the same.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from lib.db import is_server_url
from lib.private_folder import process_alive
from lib.tools.pgserver import PgServer

ROOT = Path(__file__).resolve().parents[2]
COOKIE = "voiddesk_replica"
FIRST_REPLICA_PORT = 8601
PG_PORT = 5433
DATABASE = "voiddesk"


def cluster_dir() -> Path:
    return Path(os.environ.get("VOIDDESK_CLUSTER_DIR") or ROOT / "data" / "cluster")


def nginx_config(directory: Path, port: int, replica_ports: list[int]) -> str:
    """nginx.conf: `port` on loopback in front of the replicas, a browser kept on one replica by a cookie."""
    names = [f"replica_{i + 1}" for i in range(len(replica_ports))]
    upstreams = "".join(f"    upstream {n} {{ server 127.0.0.1:{p}; }}\n" for n, p in zip(names, replica_ports))
    share = 100 / len(names)
    split = "".join(f"        {share:.2f}% {n};\n" for n in names[:-1]) + f"        * {names[-1]};\n"
    known = "".join(f'        "{n}" {n};\n' for n in names)
    tmp = directory / "nginx-tmp"
    return f"""# Written by lib/tools/cluster.py; rewritten at every start.
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/logs/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {directory}/logs/nginx-access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 1100m;   # import files up to the app's own size cap
{upstreams}
    # A new browser gets a replica; afterwards its cookie decides.
    split_clients "${{remote_addr}}${{request_id}}" $new_replica {{
{split}    }}
    map $cookie_{COOKIE} $replica {{
{known}        default $new_replica;
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://$replica;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;       # Streamlit's WebSocket (/_stcore/stream)
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1d;
            add_header Set-Cookie "{COOKIE}=$replica; Path=/; HttpOnly; SameSite=Lax" always;
            add_header X-VoidDesk-Replica $replica always;
        }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise SystemExit("error: nginx is not installed: apt-get install nginx (Debian's package)")
    return found


def _spawn(args: list[str], log: Path, env: dict | None = None) -> int:
    """A process of its own session (it outlives this command), its output in `log`; returns its pid."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return proc.pid


def _wait_http(url: str, pid: int, log: Path, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _alive(pid):
            raise SystemExit(f"error: the process behind {url} stopped; see {log}")
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"error: {url} did not answer within {timeout:.0f} s; see {log}")


def _alive(pid: int) -> bool:
    if not process_alive(pid):
        return False
    try:   # a child of this process that ended is a zombie until reaped
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _run_cli(args: list[str], url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "lib.cli", *args, "--db", url], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit(f"error: lib.cli {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")


def start(replicas: int = 2, port: int = 8500, orders: int = 50_000, mail_every: int = 60,
          replica_port: int = FIRST_REPLICA_PORT, pg_port: int = PG_PORT) -> dict:
    """Start PostgreSQL (unless VOIDDESK_DB names one), seed it when empty, start the replicas, nginx and the mail
    job; return the state written to state.json."""
    directory = cluster_dir()
    if (directory / "state.json").exists():
        raise SystemExit(f"error: a cluster is already running (or was not stopped): {directory}/state.json;"
                         " run `scripts/cluster.sh stop` first")
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    state: dict = {"dir": str(directory), "processes": {}}
    url = os.environ.get("VOIDDESK_DB", "")
    if is_server_url(url):
        state["database"] = url
    else:
        server = PgServer(durable=True, directory=directory / "pg", port=pg_port).start()
        state["postgresql_dir"], state["postgresql_port"] = str(server.dir), server.port
        state["database"] = url = server.create_database(DATABASE)
    _save(directory, state)   # from here on, stop() can undo what is running
    try:
        _run_cli(["init-db"], url)
        _run_cli(["seed", "--if-empty", "--orders", str(orders)], url)
        ports = [replica_port + i for i in range(replicas)]
        for i, replica_port in enumerate(ports, start=1):
            log = logs / f"replica-{i}.log"
            state["processes"][f"replica_{i}"] = _spawn(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.address", "127.0.0.1", "--server.port", str(replica_port),
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                log, {"VOIDDESK_DB": url})
            _save(directory, state)
        for i, replica_port in enumerate(ports, start=1):
            _wait_http(f"http://127.0.0.1:{replica_port}/_stcore/health", state["processes"][f"replica_{i}"],
                       logs / f"replica-{i}.log")
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (directory / "nginx-tmp" / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(directory / "nginx-tmp" / sub, 0o777)   # nginx's workers run as another user under root
        conf = directory / "nginx.conf"
        conf.write_text(nginx_config(directory, port, ports), encoding="utf-8")
        state["processes"]["nginx"] = _spawn([nginx_binary(), "-c", str(conf), "-p", str(directory)],
                                             logs / "nginx.log")
        _save(directory, state)
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", state["processes"]["nginx"], logs / "nginx-error.log")
        state["processes"]["mail_job"] = _spawn(
            [sys.executable, "-m", "lib.tools.cluster", "every", str(mail_every), "mail"], logs / "mail-job.log",
            {"VOIDDESK_DB": url})
        state.update(url=f"http://127.0.0.1:{port}", replica_ports=ports)
        _save(directory, state)
    except BaseException:
        stop()
        raise
    return state


def stop() -> list[str]:
    """Stop what start() started (as state.json records it); return what was stopped."""
    directory = cluster_dir()
    path = directory / "state.json"
    if not path.exists():
        return []
    state = json.loads(path.read_text(encoding="utf-8"))
    stopped = []
    for name, pid in reversed(list(state.get("processes", {}).items())):
        if _alive(pid):
            with _quiet():
                os.killpg(pid, signal.SIGTERM)
            deadline = time.time() + 15
            while _alive(pid) and time.time() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                with _quiet():
                    os.killpg(pid, signal.SIGKILL)
            stopped.append(name)
    if state.get("postgresql_dir"):
        PgServer(directory=Path(state["postgresql_dir"]), port=state["postgresql_port"]).attach().stop()
        stopped.append("postgresql")
    path.unlink()
    return stopped


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind in (ProcessLookupError, PermissionError)


def _save(directory: Path, state: dict) -> None:
    tmp = directory / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    tmp.replace(directory / "state.json")


def status() -> dict | None:
    path = cluster_dir() / "state.json"
    if not path.exists():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    state["running"] = {name: _alive(pid) for name, pid in state.get("processes", {}).items()}
    return state


def every(seconds: int, command: list[str]) -> None:
    """Run `python -m lib.cli COMMAND` every `seconds` (what cron does on a real server), printing its output."""
    while True:
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        done = subprocess.run([sys.executable, "-m", "lib.cli", *command], cwd=ROOT, capture_output=True, text=True)
        print(f"{started} lib.cli {' '.join(command)} → exit {done.returncode}\n{done.stdout}{done.stderr}",
              flush=True)
        time.sleep(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.tools.cluster", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="start PostgreSQL, the replicas, nginx and the mail job")
    p.add_argument("--replicas", type=int, default=2, help="app processes (default 2)")
    p.add_argument("--port", type=int, default=8500, help="nginx's port on 127.0.0.1 (default 8500)")
    p.add_argument("--orders", type=int, default=50_000, help="demo orders seeded into an empty database")
    p.add_argument("--mail-every", type=int, default=60, metavar="S", help="seconds between mail runs (default 60)")
    p.add_argument("--replica-port", type=int, default=FIRST_REPLICA_PORT,
                   help=f"the first replica's port; the others follow (default {FIRST_REPLICA_PORT})")
    p.add_argument("--pg-port", type=int, default=PG_PORT,
                   help=f"the local PostgreSQL server's port, when VOIDDESK_DB names none (default {PG_PORT})")
    sub.add_parser("stop", help="stop what start started (the data stays)")
    sub.add_parser("status", help="what runs")
    p = sub.add_parser("every", help="run a lib.cli command every S seconds (the demo's cron)")
    p.add_argument("seconds", type=int)
    p.add_argument("cli", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "start":
        if args.replicas < 1:
            parser.error("--replicas must be at least 1")
        state = start(args.replicas, args.port, args.orders, args.mail_every, args.replica_port, args.pg_port)
        print(f"VoidDesk is up at {state['url']} ({args.replicas} replicas on ports"
              f" {', '.join(map(str, state['replica_ports']))}, behind nginx; the mail job runs every"
              f" {args.mail_every} s)\nDatabase: {state['database']}\nLogs: {state['dir']}/logs;"
              " stop it with scripts/cluster.sh stop")
    elif args.command == "stop":
        stopped = stop()
        print("stopped: " + ", ".join(stopped) if stopped else "nothing was running")
    elif args.command == "status":
        state = status()
        print(json.dumps(state, indent=2) if state else "not running")
    else:
        every(args.seconds, args.cli)
    return 0


if __name__ == "__main__":
    sys.exit(main())
