"""`python -m lib.cli warehouses|categories list|add|rename` (SPEC §11): set up the warehouses and categories a
team's own data refers to before importing it, with the same rules, permissions and audit as the page."""
from lib.cli.common import acting_user, emit, open_db
from lib.services import catalog_admin as service

KINDS = {"warehouses": "warehouse", "categories": "category"}
PLURAL = {kind: command for command, kind in KINDS.items()}
EXAMPLE = {"warehouses": "SH", "categories": "phones"}
ADD = {"warehouse": service.add_warehouse, "category": service.add_category}
RENAME = {"warehouse": service.rename_warehouse, "category": service.rename_category}
LIST = {"warehouse": service.list_warehouses, "category": service.list_categories}
COUNT = {"warehouse": "skus", "category": "products"}


def register(sub, common, acting) -> None:
    """Register `warehouses` and `categories`."""
    for command, kind in KINDS.items():
        p = sub.add_parser(command, help=f"list, add or rename {command} (codes never change)")
        actions = p.add_subparsers(dest="catalog_action", required=True, metavar="ACTION")
        actions.add_parser("list", parents=[common, acting], help=f"list the {command}")
        for action, verb in (("add", "add a"), ("rename", "change the names of a")):
            a = actions.add_parser(action, parents=[common, acting], help=f"{verb} {kind}")
            a.add_argument("code", help=f"the {kind} code, e.g. {EXAMPLE[command]}")
            a.add_argument("--name-en", required=True, metavar="TEXT", help="English name")
            a.add_argument("--name-zh", required=True, metavar="TEXT", help="Chinese name")
        p.set_defaults(func=cmd_catalog, catalog_kind=kind)


def cmd_catalog(args) -> int:
    db = open_db(args)
    user = acting_user(db, args.user)
    kind = args.catalog_kind
    if args.catalog_action == "list":
        rows = LIST[kind](db, user)
        emit(args, rows, format_rows(rows, kind))
        return 0
    work = ADD[kind] if args.catalog_action == "add" else RENAME[kind]
    entry = work(db, user, args.code, args.name_en, args.name_zh)
    done = "added" if args.catalog_action == "add" else "renamed"
    emit(args, entry, f"{kind} {entry['code']} {done}: {entry['name_en']} / {entry['name_zh']}")
    return 0


def format_rows(rows: list[dict], kind: str) -> str:
    """One line per entry: code, count, English name, Chinese name."""
    if not rows:
        return f"no {PLURAL[kind]} yet"
    count = COUNT[kind]
    lines = [f"{'CODE':<22}{count.upper():>9}  NAME (EN / ZH)"]
    lines += [f"{r['code']:<22}{r[count]:>9}  {r['name_en']} / {r['name_zh']}" for r in rows]
    return "\n".join(lines)
