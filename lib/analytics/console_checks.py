"""The SQL console's checks (SPEC §8 "Explore"), run on a DuckDB connection that holds the app's tables.

1. DuckDB splits the text: exactly one statement, of type SELECT (which includes WITH … and VALUES).
2. Its parse tree (json_serialize_sql), checked before anything is bound (binding read_csv or 'x.csv' already
   opens the file): query nodes only (no DELETE/INSERT/UPDATE in a CTE), tables the role may read or the query's
   own CTEs, table functions range/generate_series/unnest only, no function reaching outside (getenv, query, nextval).
3. The bound plan (json_serialize_plan): only the binder knows what `*`, a row as `users`, `COLUMNS('pass.*')`
   or a WHERE clause really read, so withheld tables and columns are checked again here; the plan also says which
   columns of which tables the query reads (what the console's worker is sent, lib.analytics.console).

Binding evaluates constant arguments (range(…), LIMIT …, COLUMNS(…)): the worker process runs these checks, where
the time limit can stop them. Imports stay light (no lib.db): the worker starts fresh for the first query.
"""
import json
import re
from dataclasses import dataclass

import duckdb

from lib.domain import PERMISSIONS
from lib.errors import InvalidInput

TABLE_FUNCTIONS = ("range", "generate_series", "unnest")
MAX_SQL = 20_000

_QUERY_NODES = ("SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE")
_UNCHECKED_REFS = ("SHOW_REF", "COLUMN_DATA", "DELIM_GET", "BOUND_TABLE_REF")
# Scalar functions that read the environment, change sequences or reach other files, and name prefixes of
# whole families (read_csv, parquet_metadata, duckdb_secrets, pragma_…): refused wherever they appear.
_DENIED_FUNCTIONS = ("getenv", "current_setting", "nextval", "setval", "currval", "glob", "sniff_csv", "query",
                     "query_table", "which_secret", "load_extension", "install_extension", "enable_logging",
                     "disable_logging", "truncate_duckdb_logs", "checkpoint", "force_checkpoint", "set_config")
_DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "parquet_", "sqlite_", "postgres_", "mysql_", "iceberg_",
                    "delta_", "http", "s3", "json_serialize", "json_deserialize", "json_execute")
_WRITE_OPERATORS = ("INSERT", "DELETE", "UPDATE", "MERGE", "CREATE", "ALTER", "DROP", "COPY", "EXPORT", "PRAGMA",
                    "SET", "RESET", "ATTACH", "DETACH", "VACUUM", "LOAD", "TRANSACTION", "SIMPLE", "EXECUTE")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Access:
    """What one role may read in the console. readable: table -> its readable columns, in table order. withheld:
    "table" or "table.column" -> the PERMISSIONS action a page needs for it (None: never readable, sign-in data)."""
    readable: dict[str, list[str]]
    withheld: dict[str, str | None]


class NotPermittedHere(InvalidInput):
    """A table or column the role is refused elsewhere; the message names who may read it, as PermissionDenied does."""

    def message(self, lang: str = "en") -> str:
        from lib.i18n import join_words, t

        roles = join_words([t(f"role_plural.{r}", lang) for r in self.params["roles"]], lang)
        return t(self.key, lang, **{**self.params, "roles": roles, "action": t(self.params["action"], lang)})


def withheld_error(name: str, action: str | None, table: str | None = None) -> InvalidInput:
    """The refusal for reading a withheld table (or, with table, its columns `name`, comma-separated)."""
    if action is None:
        if table is None:
            return InvalidInput("console.hidden_table", name=name)
        return InvalidInput("console.hidden_column", table=table, column=name)
    who = {"action": f"action.{action}", "roles": list(PERMISSIONS[action])}
    if table is None:
        return NotPermittedHere("console.not_permitted_table", name=name, **who)
    return NotPermittedHere("console.not_permitted_column", table=table, column=name, **who)


def single_select(sql: str) -> duckdb.Statement:
    """The one SELECT statement in `sql`, as DuckDB reads it."""
    text = (sql or "").strip()
    if not text:
        raise InvalidInput("console.empty")
    if len(text) > MAX_SQL:
        raise InvalidInput("console.too_long", n=MAX_SQL)
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        raise InvalidInput("console.syntax", detail=first_line(exc)) from None
    if not statements:                       # only comments or semicolons
        raise InvalidInput("console.empty")
    if len(statements) > 1:
        raise InvalidInput("console.one_statement", n=len(statements))
    kind = statements[0].type.name
    if kind == "MULTI":                      # PIVOT … as a statement: several statements inside
        raise InvalidInput("console.unchecked")
    if kind != "SELECT":
        raise InvalidInput("console.read_only", kind=kind)
    return statements[0]


def check(cur, sql: str, access: Access) -> dict[str, list[str]]:
    """Both checks; the columns the query reads per table. Anything they cannot read is refused, never run."""
    try:
        check_tree(cur, sql, access)
        return check_plan(cur, sql, access)
    except duckdb.Error as exc:
        raise InvalidInput("console.failed", detail=first_line(exc)) from None
    except (RecursionError, ValueError, KeyError, TypeError, AttributeError, IndexError):   # an unexpected tree
        raise InvalidInput("console.unchecked") from None


def _nodes(tree):
    """Every dict inside a JSON tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def check_tree(cur, sql: str, access: Access) -> None:
    """Refuse writes, unknown or withheld tables and outside-reaching functions anywhere in the parse tree."""
    tree = json.loads(_scalar(cur, "SELECT json_serialize_sql(?::VARCHAR)", [sql]))
    if tree.get("error"):
        raise InvalidInput("console.unchecked")
    ctes = _cte_names(tree, access)
    catalog = _scalar(cur, "SELECT current_database()").lower()
    for node in _nodes(tree):
        kind = node.get("type")
        if isinstance(kind, str) and kind.endswith("_NODE") and kind not in _QUERY_NODES:
            raise InvalidInput("console.writes", kind=kind.removesuffix("_QUERY_NODE").removesuffix("_NODE"))
        if kind in _UNCHECKED_REFS:
            raise InvalidInput("console.unchecked")
        if kind == "BASE_TABLE":
            _check_table_ref(node, access, ctes, catalog)
        elif kind == "TABLE_FUNCTION":
            _check_table_function(node["function"].get("function_name", ""))
        if node.get("class") == "FUNCTION":
            _check_function(node.get("function_name", ""))
        elif node.get("class") == "PARAMETER":
            raise InvalidInput("console.no_parameters")


def _cte_names(tree, access: Access) -> set[str]:
    names = {entry["key"].lower() for node in _nodes(tree) if isinstance(node.get("cte_map"), dict)
             for entry in node["cte_map"].get("map", [])}
    for name in names:
        # A CTE named like a file or a withheld table could hide a reference to one inside its own definition.
        if not _IDENTIFIER.match(name) or name in access.withheld:
            raise InvalidInput("console.bad_cte_name", name=name[:60])
    return names


def _check_table_ref(node: dict, access: Access, ctes: set[str], catalog: str) -> None:
    name = node.get("table_name", "").lower()
    schema_name, catalog_name = node.get("schema_name", "").lower(), node.get("catalog_name", "").lower()
    if name in access.withheld:
        raise withheld_error(name, access.withheld[name])
    if not schema_name and not catalog_name and name in ctes:
        return
    if name in access.readable and schema_name in ("", "main") and catalog_name in ("", catalog):
        return
    raise InvalidInput("console.table_not_allowed",
                       name=".".join(p for p in (catalog_name, schema_name, name) if p)[:80])


def _check_table_function(name: str) -> None:
    if name.lower() not in TABLE_FUNCTIONS:
        raise InvalidInput("console.function_not_allowed", name=name[:60], allowed=", ".join(TABLE_FUNCTIONS))


def _check_function(name: str) -> None:
    name = name.lower()
    if name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES):
        raise InvalidInput("console.function_not_allowed", name=name[:60], allowed=", ".join(TABLE_FUNCTIONS))


def check_plan(cur, sql: str, access: Access) -> dict[str, list[str]]:
    """Refuse a bound plan that writes, scans anything but the readable tables, or reads a withheld column; return
    the columns it reads per table (in table order; [] for a table read only for its rows, as count(*) does)."""
    plan = json.loads(_scalar(cur, "SELECT json_serialize_plan(?::VARCHAR)", [sql]))
    if plan.get("error"):
        if plan.get("error_type") == "not implemented":
            raise InvalidInput("console.unchecked")
        raise InvalidInput("console.failed", detail=first_line(plan.get("error_message", "")))
    catalog = _scalar(cur, "SELECT current_database()").lower()
    reads: dict[str, set[str]] = {}
    for node in _nodes(plan):
        kind = node.get("type")
        if not isinstance(kind, str) or not kind.startswith("LOGICAL_"):
            continue
        if any(word in kind for word in _WRITE_OPERATORS):
            raise InvalidInput("console.writes", kind=kind.removeprefix("LOGICAL_"))
        if kind == "LOGICAL_GET":
            _check_scan(node, access, catalog, reads)
    return {table: [c for c in access.readable[table] if c in columns] for table, columns in reads.items()}


def _check_scan(node: dict, access: Access, catalog: str, reads: dict[str, set[str]]) -> None:
    path = [p.lower() for p in node.get("qname", {}).get("path", [])]
    if path != ["seq_scan"]:
        _check_table_function(path[-1] if path else "?")
        return
    data = node.get("function_data") or {}
    table = str(data.get("table", "")).lower()
    if table in access.withheld:
        raise withheld_error(table, access.withheld[table])
    if table not in access.readable or str(data.get("schema", "")).lower() != "main" \
            or str(data.get("catalog", "")).lower() != catalog:
        raise InvalidInput("console.table_not_allowed", name=table[:80])
    names = node.get("names", [])
    # Indexes past the table's columns are DuckDB's row id (count(*), rowid): no column is read for those.
    read = {names[c["index"]].lower() for c in node.get("column_indexes", []) if c.get("index", -1) < len(names)}
    refused = {c: access.withheld.get(f"{table}.{c}") for c in sorted(read) if c not in access.readable[table]}
    if refused:   # all of one kind at once (`SELECT *` may read several), sign-in data first
        action = None if None in refused.values() else next(iter(refused.values()))
        raise withheld_error(", ".join(c for c, a in refused.items() if a == action), action, table=table)
    reads.setdefault(table, set()).update(read)


def first_line(exc) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def _scalar(cur, sql: str, params=None):
    rows = cur.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
