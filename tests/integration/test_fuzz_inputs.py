"""Bad input everywhere (issue #8, item 4): every text and number parameter of the write services
(tests/integration/fuzz_cases.py), the command line's flags, the upload path and the exports.

Each bad value gets a VoidDeskError that says why in English and Chinese and changes nothing (every table's
fingerprint); accepted text is stored as given (at most trimmed; no escaping in the database); exported text never
starts a spreadsheet formula. A fixed sweep of the classic troublemakers runs first, then a few hypothesis examples
(set VOIDDESK_FUZZ_EXAMPLES for more)."""
import csv
import io
import itertools
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.errors import VoidDeskError
from lib.imports import propose, read_bytes, run_import
from lib.imports.fields import KINDS
from lib.queries import export
from lib.queries.frame_export import frame_csv, frame_excel
from lib.queries.search import SearchFilters, search_orders
from lib.services import catalog_admin, orders, reasons, users
from lib.services.orders import LineInput
from lib.services.refunds import mark_paid
from lib.services.returns import create_return
from tests.integration.access_support import fingerprint, order_for, restock
from tests.integration.cli_helpers import cli
from tests.integration.fuzz_cases import GROUPS, Case
from tests.integration.fuzz_values import (FORMULA, FUZZ, KITCHEN_SINK, SCRIPT, SQL, STRATEGY, SWEEP, Attempts,
                                           assert_clear)
from tests.integration.orders_fixture import add_customer, insert_order

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CaseRunner:
    """One fuzz case against one shop: what it needs is arranged again whenever an accepted call used it up."""

    def __init__(self, shop, case: Case, attempts: Attempts):
        self.shop, self.case, self.attempts = shop, case, attempts
        self.arranged = self._arrange()

    def _arrange(self):
        arranged = self.case.arrange(self.shop)
        self.attempts.refresh()
        return arranged

    def attempt(self, value) -> None:
        try:
            result, refusal = self.attempts.run(lambda: self.case.call(self.shop, self.arranged, value))
            if refusal is None:
                self._accepted(value, result)
        except Exception as exc:
            exc.add_note(f"{self.case.name} = {value!r:.120}")
            raise

    def _accepted(self, value, result) -> None:
        if self.case.stored is not None and isinstance(value, str) and value.strip():
            stored = self.case.stored(self.shop, self.arranged, result)
            assert stored in (value, value.strip()), f"stored {stored!r:.120}"
        if self.case.keeps:
            self.attempts.refresh()
        else:
            self.arranged = self._arrange()


@pytest.mark.parametrize("group", GROUPS)
def test_bad_input_to_the_services_is_refused_clearly_and_changes_nothing(shop, monkeypatch, group):
    restock(shop)
    # Accepted accounts need a password hash; Argon2 is slow on purpose, and these tests never sign in.
    monkeypatch.setattr(users, "hash_password", lambda password: "fuzz-not-a-hash")
    attempts = Attempts(shop.db)
    for case in GROUPS[group]:
        runner = CaseRunner(shop, case, attempts)
        for value in SWEEP[case.kind]:
            runner.attempt(value)
        FUZZ(given(value=STRATEGY[case.kind])(runner.attempt))()


# --- the command line ----------------------------------------------------------------------------------------

ARGV_TEXT = ("", " ", "-", "abc", SCRIPT, SQL, FORMULA, "x" * 10_000, KITCHEN_SINK.replace("\x00", ""), "\udcff")
ARGV_NUMBER = ("", "abc", "-1", "0", "1e309", "nan", "9" * 400, str(10 ** 20), "１２", "\udcff")
ARGV_DATE = ("", "2024-02-30", "24-1-1", "0001-01-01", "9999-12-31", "tomorrow", "2024-01-01T00:00", "\udcff")
ARGV_LINE = ("", ":", "TOY-1", "TOY-1:", ":1", "TOY-1:-1", "TOY-1:1e309", "TOY-1:abc", "a:b:c", "TOY-1:" + "9" * 30)
ARGV_STRATEGY = st.text(st.characters(exclude_characters="\x00"), max_size=40)   # a real argv holds no NUL
FLAGS = {
    "search": [(["search", "--number", "{}"], ARGV_TEXT), (["search", "--customer", "{}"], ARGV_TEXT),
               (["search", "--status", "{}"], ARGV_TEXT), (["search", "--from", "{}"], ARGV_DATE),
               (["search", "--to", "{}"], ARGV_DATE), (["search", "--min-total", "{}"], ARGV_NUMBER),
               (["search", "--sort", "{}"], ARGV_TEXT), (["search", "--limit", "{}"], ARGV_NUMBER),
               (["search", "--offset", "{}"], ARGV_NUMBER), (["search", "--source", "{}"], ARGV_TEXT),
               (["search", "--void-reason", "{}"], ARGV_TEXT), (["search", "--returned-to", "{}"], ARGV_DATE),
               (["show", "{}"], ARGV_TEXT),
               (["stock", "--sku", "{}"], ARGV_TEXT)],
    "voids": [(["void", "{}", "--reason", "customer_cancelled"], ARGV_TEXT),
              (["void", "{order}", "--reason", "{}"], ARGV_TEXT),
              (["void", "{order}", "--reason", "other", "--note", "{}", "--dry-run"], ARGV_TEXT),
              (["reject", "{}", "--note", "no"], ARGV_TEXT), (["restore", "{order}", "--note", "{}"], ARGV_TEXT)],
    "returns": [(["return", "{shipped}", "--line", "{}", "--reason", "damaged"], ARGV_LINE),
                (["return", "{shipped}", "--line", "TOY-1:1", "--reason", "damaged", "--refund", "{}"], ARGV_NUMBER),
                (["inspect", "RT-NOPE", "--line", "{}"], ARGV_LINE)],
    "stats": [(["stats", "voids", "--grain", "{}"], ARGV_TEXT), (["stats", "returns", "--by", "{}"], ARGV_TEXT),
              (["stats", "voids", "--from", "{}"], ARGV_DATE), (["stats", "voids", "--limit", "{}"], ARGV_NUMBER)],
    "admin": [(["seed", "--orders", "{}"], ARGV_NUMBER), (["users", "add", "{}", "--role", "ops"], ARGV_TEXT),
              (["users", "set-role", "ops", "{}"], ARGV_TEXT),
              (["warehouses", "add", "{}", "--name-en", "X", "--name-zh", "Y"], ARGV_TEXT),
              (["import", "customers", "{}"], ARGV_TEXT)],
}


def _cli_attempt(shop, attempts: Attempts, template: list[str], value: str, arranged: dict) -> None:
    argv = [value if a == "{}" else a.format(**arranged) for a in template]
    argv += [] if template[0] == "seed" else ["--user", "ops_lead"]
    code, out, err = cli(shop.db.path, *argv)
    if code == 0:
        attempts.refresh()
        return
    lines = err.strip().splitlines()
    assert code in (1, 2) and lines and "error: " in lines[-1], (argv[:4], code, err[:300])
    assert code == 2 or len(lines) == 1, (argv[:4], err[:300])     # 2: argparse's usage line, then its error
    assert fingerprint(shop.db) == attempts.before, argv[:4]


def _cli_attempts(shop, attempts: Attempts, template: list[str], arranged: dict):
    def attempt(value: str) -> None:
        _cli_attempt(shop, attempts, template, value, arranged)
    return attempt


@pytest.mark.parametrize("group", FLAGS)
def test_bad_command_line_values_exit_with_one_line_and_change_nothing(shop, group):
    restock(shop)
    lead = shop.users["ops_lead"]
    arranged = {"order": order_for(shop, lead), "shipped": order_for(shop, lead, "shipped", qty=50)}
    attempts = Attempts(shop.db)
    for template, values in FLAGS[group]:
        for value in values:
            _cli_attempt(shop, attempts, template, value, arranged)
        FUZZ(given(value=ARGV_STRATEGY)(_cli_attempts(shop, attempts, template, arranged)))()


def test_a_day_at_the_ends_of_the_calendar_is_refused_in_words(shop):
    """It used to escape as an OverflowError: the day after 9999-12-31, or 90 days before 0001-01-01."""
    for argv in (["stats", "voids", "--to", "0001-01-01"], ["stats", "returns", "--from", "9999-12-31"],
                 ["search", "--to", "9999-12-31"]):
        code, _, err = cli(shop.db.path, *argv, "--user", "analyst")
        assert (code, err.strip()) == (1, f"error: {argv[-2][2:]}: {argv[-1]} is outside the years 1900 to 2999.")


# --- uploads -------------------------------------------------------------------------------------------------

MALFORMED = [("orders.xlsx", b"PK\x03\x04" + b"\x00" * 60), ("orders.parquet", b"PAR1 not really"),
             ("orders.csv", b"<!doctype html><table><tr><td>x</td></tr></table>"), ("orders.csv", b"\xef\xbb\xbf"),
             ("orders.csv", b"code,name\n"), ("orders.csv", ",".join(f"c{i}" for i in range(300)).encode() + b"\n1\n"),
             ("orders.csv", b'code,name\n"open quote,x\n'), ("orders.csv", b"\xff\xfe\x00\x00garbage"),
             ("orders.xls", bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 40), ("orders.csv", b"a;b\r\n\x00\x01;\x02")]


def _upload(shop, attempts: Attempts, name: str, data: bytes) -> None:
    source, refusal = attempts.run(lambda: read_bytes(name, data))
    for kind in KINDS if refusal is None else ():
        result, _ = attempts.run(lambda: run_import(shop.db, shop.users["admin"], source, propose(kind, source)))
        if result is not None and result.rejected:
            assert result.loaded == 0 and fingerprint(shop.db) == attempts.before, (name, kind)
        attempts.refresh()


def test_malformed_files_are_refused_or_reported_and_load_nothing(shop):
    attempts = Attempts(shop.db)
    for name, data in MALFORMED:
        _upload(shop, attempts, name, data)

    @FUZZ
    @given(name=st.sampled_from(["x.csv", "x.xlsx", "x.parquet", "x.txt", "x"]), data=st.binary(min_size=1,
                                                                                             max_size=400))
    def explore(name, data):
        _upload(shop, attempts, name, data)
    explore()


def test_a_file_above_the_size_limit_is_refused_before_it_is_read():
    with pytest.raises(VoidDeskError) as info:
        read_bytes("big.csv", b"code,name\n" + b"C,x\n" * 400, max_mb=0.001)
    assert info.value.key == "import.too_big"
    assert_clear(info.value)


# --- exports -------------------------------------------------------------------------------------------------

def _cells_are_safe(cells, originals) -> None:
    for cell in cells:
        assert not (isinstance(cell, str) and cell.startswith(FORMULA_STARTS)), cell
    for text in originals:
        shown = "'" + text if text.startswith(FORMULA_STARTS) else text
        assert shown in cells, (text, cells)


_customers = itertools.count(1)


@FUZZ
@given(name=st.one_of(st.sampled_from([FORMULA, "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", SCRIPT]),
                      st.text(min_size=1, max_size=30)))
def test_search_exports_never_start_a_formula(shop, name):
    """The customer's name and the rep's display name: free text from people and imports, in every export."""
    code = f"FZ-{next(_customers)}"
    add_customer(shop.db, code, name)
    with shop.db.transaction() as cur:
        cur.execute("UPDATE users SET display_name = ? WHERE username = 'sales2'", [name])
    insert_order(shop.db, f"SO-{code}", customer=code, rep="sales2")
    filters, ops = SearchFilters(number=f"SO-{code}"), shop.users["ops"]
    rows = list(csv.reader(io.StringIO(export.export_csv(shop.db, ops, filters).decode("utf-8-sig"), newline="")))
    _cells_are_safe(rows[1], [name])
    sheet = list(openpyxl.load_workbook(io.BytesIO(export.export_excel(shop.db, ops, filters))).active.values)
    assert not any(isinstance(c, str) and c.startswith(FORMULA_STARTS) for c in sheet[1]), sheet[1]


@FUZZ
@given(texts=st.lists(st.one_of(st.sampled_from([FORMULA, "+1", "-x", "@x", "\tx"]), st.text(min_size=1, max_size=20)),
                      min_size=2, max_size=4, unique=True))
def test_small_table_exports_never_start_a_formula_in_a_header_or_a_cell(texts):
    frame = pd.DataFrame({text: [text, 1] for text in texts})
    rows = list(csv.reader(io.StringIO(frame_csv(frame).decode("utf-8-sig"), newline="")))
    _cells_are_safe(rows[0], [str(t) for t in texts])
    _cells_are_safe(rows[1], [str(t) for t in texts])
    sheet = list(openpyxl.load_workbook(io.BytesIO(frame_excel(frame))).active.values)
    assert not any(isinstance(c, str) and c.startswith(FORMULA_STARTS) for row in sheet for c in row), sheet


# --- regressions: values the fuzzing found escaping as raw errors ----------------------------------------------

def _refused(db, call, key: str) -> None:
    before = fingerprint(db)
    with pytest.raises(VoidDeskError) as info:
        call()
    assert info.value.key == key, info.value.key
    assert_clear(info.value)
    assert fingerprint(db) == before


def test_an_order_total_beyond_what_money_columns_hold_is_refused(shop):
    restock(shop, 2_000_000)
    lines = [LineInput("TOY-1", 1_000_000, "100000000")]     # 10^14: a DuckDB ConversionException before
    _refused(shop.db, lambda: orders.create_order(shop.db, shop.users["ops"], "CUS-1", "SH", lines),
             "orders.total_too_large")


def test_a_refund_id_that_cannot_exist_is_not_found(shop):
    for refund_id in (float("inf"), 10 ** 40, -1, 0):
        _refused(shop.db, lambda: mark_paid(shop.db, shop.users["finance"], refund_id, "PAY-1"), "refunds.not_found")


def test_a_huge_refund_is_refused_as_too_high(shop):
    order_no = order_for(shop, shop.users["ops"], "shipped", paid=True)
    _refused(shop.db, lambda: create_return(shop.db, shop.users["ops"], order_no, {"TOY-1": 1}, "damaged",
                                            refund="1e309"), "returns.refund_too_high")


def test_a_search_offset_beyond_what_the_database_takes_is_refused(shop):
    _refused(shop.db, lambda: search_orders(shop.db, shop.users["ops"], offset=10 ** 20), "search.offset_too_large")


def test_a_move_step_must_be_the_whole_number_one_up_or_down(shop):
    lead = shop.users["ops_lead"]
    for step in (1.0, Decimal("1"), True, 2):   # 1.0 and Decimal(1) equal 1 but used to fail as list indexes
        _refused(shop.db, lambda: reasons.move_reason(shop.db, lead, "void", "other", step), "reasons.bad_step")
        _refused(shop.db, lambda: catalog_admin.move_category(shop.db, lead, "toys", step), "catalog.bad_step")


def test_a_header_that_looks_like_a_formula_is_neutralised_in_both_small_exports():
    frame = pd.DataFrame({FORMULA: ["a"], "@x": ["=b"], "ok": [1]})
    assert frame_csv(frame).decode("utf-8-sig").splitlines()[0] == f"'{FORMULA},'@x,ok"
    header = next(openpyxl.load_workbook(io.BytesIO(frame_excel(frame))).active.values)
    assert header == (f"'{FORMULA}", "'@x", "ok")
