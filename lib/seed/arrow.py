"""Arrow plumbing for `lib.seed`: numpy arrays (NEVER / -1 meaning "none") become typed Arrow columns,
registered on the cursor and inserted with one INSERT … SELECT per table."""
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.seed.orders import NEVER

MONEY = "(({0}) / 100)::DECIMAL(14,2)"   # cents (exact below 2^53) to DECIMAL


def ts(a) -> pa.Array:
    """Seconds since the epoch as a timestamp column; NEVER becomes NULL."""
    a = np.asarray(a, np.int64)
    return pa.array(np.where(a >= NEVER, 0, a).astype("datetime64[s]"), mask=a >= NEVER)


def opt(a) -> pa.Array:
    """Integers where a negative value means NULL."""
    a = np.asarray(a, np.int64)
    return pa.array(a, mask=a < 0)


def words(idx, vocab) -> pa.Array:
    """Dictionary-encoded strings: DuckDB reads them as VARCHAR without a string per row on our side."""
    idx = np.asarray(idx, np.int32)
    dictionary = vocab if isinstance(vocab, pa.Array) else pa.array(list(vocab), pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(idx, mask=idx < 0), dictionary)


def numbers(prefix: str, day_strings: pa.Array, day, seq) -> pa.Array:
    """Document numbers PREFIX-YYYYMMDD-NNNNN from day indexes and per-day sequence numbers."""
    dates = pc.take(day_strings, pa.array(np.asarray(day, np.int64)))
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(seq, np.int64)), pa.string()), 5, "0")
    return pc.binary_join_element_wise(prefix, dates, digits, "-")


def take_ids(cur, sequence: str, n: int) -> int:
    """Draw n values from a sequence and return the first; inside one transaction they are consecutive."""
    if n == 0:
        return 0
    first = cur.execute("SELECT nextval(?)", [sequence]).fetchall()[0][0]
    if n > 1:
        cur.execute("SELECT max(nextval(?)) FROM range(?)", [sequence, n - 1]).fetchall()
    return int(first)


def insert(cur, name: str, table: dict, sql: str, params=None) -> int:
    """Register `table` as `name`, run the INSERT … SELECT, return the number of rows."""
    cur.register(name, pa.table(table))
    cur.execute(sql, params or []).fetchall()
    cur.unregister(name)
    return len(next(iter(table.values())))


@dataclass
class Ids:
    """First id of each table's block, the user ids by USERS index, and the document numbers."""
    first: dict[str, int]
    user_ids: np.ndarray
    order_no: pa.Array
    return_no: pa.Array

    def users(self, idx) -> pa.Array:
        idx = np.asarray(idx)
        return opt(np.where(idx >= 0, self.user_ids[np.maximum(idx, 0)], -1))

    def of(self, table: str, idx) -> np.ndarray:
        return np.asarray(idx, np.int64) + self.first[table]

    def order_nos(self, order_idx) -> pa.Array:
        return words(order_idx, self.order_no)

    def return_nos(self, note_idx) -> pa.Array:
        return words(note_idx, self.return_no)
