"""A temporary folder of this process's own (mode 0700), removed when it ends — and, should it be killed, by the next
process that makes one of the same kind: the folder names its pid (the analytics copy, lib.replica; the SQL
console's snapshots, lib.analytics.console_snapshot — both hold data only some roles may read)."""
import atexit
import os
import shutil
import tempfile
from pathlib import Path


def private_folder(kind: str) -> Path:
    """A new folder voiddesk-<kind>-<pid>-…, after removing those of <kind> whose process is gone."""
    for folder in Path(tempfile.gettempdir()).glob(f"voiddesk-{kind}-*-*"):
        pid = folder.name[len(f"voiddesk-{kind}-"):].split("-")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    folder = tempfile.mkdtemp(prefix=f"voiddesk-{kind}-{os.getpid()}-")
    atexit.register(shutil.rmtree, folder, True)
    return Path(folder)


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
