"""Add or update keys in both catalogues: python scripts/i18n_add.py key 'English' '中文' [key en zh …]."""
import fcntl
import json
import sys
from pathlib import Path

LOCALES = Path(__file__).resolve().parent.parent / "lib" / "locales"


def main(args: list[str]) -> None:
    if len(args) % 3:
        raise SystemExit("give triples: key english chinese")
    # Several people (or helpers) may add keys at once: one writer at a time.
    with open(LOCALES / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _write(args)


def _write(args: list[str]) -> None:
    for lang, offset in (("en", 1), ("zh", 2)):
        path = LOCALES / f"{lang}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        for i in range(0, len(args), 3):
            data[args[i]] = args[i + offset]
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
