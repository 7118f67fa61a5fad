"""Add or update keys in both catalogues: python scripts/i18n_add.py key 'English' '中文' [key en zh …]."""
import json
import sys
from pathlib import Path

LOCALES = Path(__file__).resolve().parent.parent / "lib" / "locales"


def main(args: list[str]) -> None:
    if len(args) % 3:
        raise SystemExit("give triples: key english chinese")
    for lang, offset in (("en", 1), ("zh", 2)):
        path = LOCALES / f"{lang}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        for i in range(0, len(args), 3):
            data[args[i]] = args[i + offset]
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
