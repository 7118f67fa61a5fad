"""Analytics for analysts and leads (SPEC §8): dashboards, spike alerts, explore and the SQL console."""

from lib.analytics import cache
from lib.db import after_commit

# Cached dashboard numbers are dropped as soon as a change that moves them is committed.
after_commit(("orders", "order_lines", "voids", "return_notes", "return_lines", "refunds", "stock_ledger",
              "reasons", "categories", "warehouses"), cache.invalidate)
