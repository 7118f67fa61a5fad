"""Which tables and columns a role reads in the SQL console: those its pages show it, by the same PERMISSIONS table
(issue #16 finding 6: analysts read the audit log and refund payment references here, which the audit and refund
pages refuse them). Sign-in data and what no page shows is never readable here; a table missing below is not readable
at all, so a new table stays hidden until someone decides who may read it (tests/integration/test_console.py checks
that every table is listed)."""
from lib.analytics.console_checks import Access
from lib.domain import User, can

_ORDERS = "order.view_all"          # search and order pages: orders, their lines, voids, returns, refunds, history

# table -> the action whose holders see it on a page; None: nobody (sign-in data, the app's bookkeeping)
TABLES: dict[str, str | None] = {
    "orders": _ORDERS, "order_lines": _ORDERS, "voids": _ORDERS, "return_notes": _ORDERS, "return_lines": _ORDERS,
    "refunds": _ORDERS, "order_status_history": _ORDERS, "assignments": _ORDERS, "comments": _ORDERS,
    "customers": _ORDERS, "products": _ORDERS, "categories": _ORDERS, "category_bits": _ORDERS,
    "warehouses": _ORDERS, "reasons": _ORDERS, "users": _ORDERS,
    "stock_balances": "stock.view", "stock_ledger": "stock.view",
    "audit_log": "audit.view", "export_marks": "audit.view",     # the audit page and its change feed
    "spike_alerts": "analytics.view",                            # the spike alerts already sent (stats spikes)
    "settings": "settings.edit",                                 # the rules page
    "notifications": "users.manage", "mail_outbox": "users.manage",   # the outbox page (an inbox is its owner's)
    "chat_channels": "chat.manage", "chat_deliveries": "chat.manage",   # the team-chat page
    "sessions": None, "login_attempts": None, "login_pace": None, "counters": None, "submissions": None,
    "schema_migrations": None,
}
# "table.column" -> the action, where a column needs more than its table
COLUMNS: dict[str, str | None] = {
    "users.password_hash": None,
    "users.email": "users.manage", "users.active": "users.manage", "users.must_change_password": "users.manage",
    "users.language": "users.manage", "users.created_at": "users.manage",     # the users page only
    "refunds.payment_ref": "refund.view",                                      # the refund queue
    "customers.phone": None,                                                   # imported, shown on no page
    "chat_channels.webhook_url": None, "chat_channels.secret": None,           # robots' keys: never shown back
}


def _may(user: User, action: str | None) -> bool:
    return action is not None and can(user, action)


def console_access(cur, user: User) -> tuple[Access, dict[str, list[tuple[str, str]]]]:
    """What `user` may read here, and the readable tables' full column lists with their types (withheld columns
    included, so that a query naming one is refused by name rather than as unknown)."""
    rows = cur.execute("SELECT table_name, column_name, data_type FROM duckdb_columns()"
                       " WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
                       " ORDER BY table_name, column_index").fetchall()
    readable: dict[str, list[str]] = {}
    withheld: dict[str, str | None] = {}
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        table, column = table.lower(), column.lower()
        if table not in TABLES:
            continue                                  # unknown: refused as not one of the app's tables
        if not _may(user, TABLES[table]):
            withheld[table] = TABLES[table]
            continue
        tables.setdefault(table, []).append((column, kind))
        readable.setdefault(table, [])
        action = COLUMNS.get(f"{table}.{column}", TABLES[table])
        if _may(user, action):
            readable[table].append(column)
        else:
            withheld[f"{table}.{column}"] = action
    for table, action in TABLES.items():              # also those a copy does not hold (sessions on PostgreSQL)
        if not _may(user, action):
            withheld.setdefault(table, action)
    return Access(readable=readable, withheld=withheld), tables
