"""`python -m lib.cli` run in-process through lib.cli.main: what a subprocess would show (exit code, stdout, stderr)
without starting Python again for every call (issue #13). test_cli_entry.py keeps the real entry point proven."""
import io
import sys
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import NamedTuple

from lib.cli import main


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def run_cli(argv: list[str], stdin: str | None = None) -> Result:
    """Run the command line with `argv`; standard input reads `stdin` (for --password-stdin), else nothing."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), _stdin(stdin or ""):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = _exit_code(exc, err)
    return Result(code, out.getvalue(), err.getvalue())


def cli(db, *args: str, stdin: str | None = None) -> Result:
    """run_cli on the database file `db` (the path, given as --db after the arguments)."""
    return run_cli([*args, "--db", str(db)], stdin)


def _exit_code(exc: SystemExit, err: io.StringIO) -> int:
    """The exit status of a process ending so: a message (e.g. "error: this command needs --user USERNAME") is
    printed on stderr with status 1; argparse has printed its own lines and exits 2 (0 after --help)."""
    if isinstance(exc.code, str):
        print(exc.code, file=err)
        return 1
    return exc.code or 0


@contextmanager
def _stdin(text: str):
    saved, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved
