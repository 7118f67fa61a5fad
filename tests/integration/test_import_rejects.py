"""A file with bad rows loads nothing and names exactly those rows, fields and reasons (in the user's language);
a second import of the same file is refused as duplicates; the database is unchanged after every refusal."""
from lib.imports import check_import, propose, read_bytes, run_import
from lib.queries.check import run_checks
from tests.integration import import_samples as samples

GOOD = "G-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,2,99.50"


def snapshot(db) -> tuple:
    with db.read() as cur:
        # the failed import's own audit entry (import.fail) is all it writes
        return tuple(cur.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in
                     ("orders", "order_lines", "voids", "stock_ledger", "order_status_history",
                      "audit_log WHERE action <> 'import.fail'")) + (
            cur.execute("SELECT sum(reserved) FROM stock_balances").fetchall()[0][0],)


def attempt(shop, lines: list[str], headers=samples.EN_HEADERS, lang: str = "en", kind: str = "orders"):
    before = snapshot(shop.db)
    source = read_bytes("bad.csv", samples.orders_csv(lines, headers))
    result = run_import(shop.db, shop.users["ops_lead"], source, propose(kind, source), lang=lang)
    assert result.loaded == 0 and not result.counts
    assert snapshot(shop.db) == before
    assert run_checks(shop.db)["ok"]
    return result


def problems(result) -> list[tuple]:
    return [tuple(r) for r in result.problems[["row", "field", "value", "reason"]].itertuples(index=False)]


def test_a_few_bad_rows_load_nothing_and_are_reported_exactly(shop):
    result = attempt(shop, [
        GOOD,
        "G-2,CUS-1,2026-03-01,pending,SH,TOY-1,-3,99.50",        # negative quantity
        "G-3,CUS-9,2026-03-01,pending,SH,TOY-1,1,99.50",         # unknown customer
        "G-4,CUS-1,2026-13-45,pending,SH,NOPE-1,1,99.50",        # bad date and unknown SKU
        "G-5,CUS-1,2026-03-01,lost,XX,TOY-1,,",                  # unmapped status, unknown warehouse, no quantity
        "G-6,CUS-1,2026-03-01,shipped,SH,TOY-1,1.5,abc",         # not a whole quantity, not an amount
    ])
    assert (result.rows, result.rejected) == (6, 5)
    assert problems(result) == [
        (3, "Quantity", "-3", "-3 is not a quantity above zero"),
        (4, "Customer code", "CUS-9", "no customer CUS-9"),
        (5, "Order date", "2026-13-45",
         "2026-13-45 is not a date (e.g. 2026-03-05, 2026/3/5 14:30, 2026年3月5日)"),
        (5, "SKU", "NOPE-1", "no product NOPE-1"),
        (6, "Quantity", "", "missing"),
        (6, "Status", "lost", "lost is not mapped to a VoidDesk value"),
        (6, "Warehouse", "XX", "no warehouse XX (warehouses: GZ, SH); add it under Control → Warehouses & categories"),
        (7, "Quantity", "1.5", "1.5 is not a whole number"),
        (7, "Unit price", "abc", "abc is not an amount")]
    report = result.report.decode("utf-8-sig").splitlines()
    assert report[0] == "Row,Field,Value,Reason" and len(report) == 10
    assert report[1] == "3,Quantity,'-3,'-3 is not a quantity above zero"   # as a spreadsheet must not run it


def test_the_report_never_hands_a_spreadsheet_a_formula(shop):
    """Issue #16, finding 4: values from the file land in the report's Value and Reason columns as text."""
    import csv
    import io

    link, command = '=HYPERLINK("http://evil.example/x","open")', "+cmd|' /C calc'!A0"
    result = attempt(shop, [f'G-1,"{link.replace(chr(34), chr(34) * 2)}",2026-03-01,pending,SH,TOY-1,1,',
                            f"G-2,{command},2026-03-01,pending,SH,TOY-1,1,", "G-3,@SUM(A1),2026-03-01,pending,SH,TOY-1,1,"])
    cells = [c for row in csv.reader(io.StringIO(result.report.decode("utf-8-sig"))) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    assert "'" + link in cells and "'" + command in cells and "'@SUM(A1)" in cells


def test_the_report_speaks_the_users_language(shop):
    result = attempt(shop, ["G-1,CUS-9,2026-03-01,pending,SH,TOY-1,1,"], lang="zh")
    assert problems(result) == [(2, "客户编码", "CUS-9", "没有客户 CUS-9")]
    assert result.report.decode("utf-8-sig").splitlines()[0] == "行号,字段,值,原因"


def test_a_second_import_of_the_same_file_is_refused_as_duplicates(shop):
    data = samples.utf8_csv()
    source = read_bytes("orders.csv", data)
    assert run_import(shop.db, shop.users["admin"], source, propose("orders", source)).ok
    result = attempt(shop, data.decode("utf-8-sig").splitlines()[1:])
    assert result.rejected == 6
    assert set(result.problems["reason"]) == {f"order IMP-100{i} is already in the database" for i in range(1, 6)}


def test_rows_of_one_order_must_agree(shop):
    result = attempt(shop, [GOOD, "G-1,CUS-2,2026-03-01 10:00,pending,SH,PHN-1,1,", "G-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,1,"])
    assert problems(result) == [
        (3, "Order number", "G-1", "the order's details differ from row 2 of the same order")]


def test_an_order_number_twice_in_a_header_only_file_is_a_duplicate(shop):
    headers = ["order_no", "customer_code", "created_at", "status", "warehouse", "total"]
    result = attempt(shop, ["H-1,CUS-1,2026-03-01,completed,SH,10", "H-1,CUS-1,2026-03-01,completed,SH,10"], headers)
    assert problems(result) == [(3, "Order number", "H-1", "order H-1 appears twice in the file (first in row 2)")]


def test_reservations_beyond_available_stock_are_refused_with_the_numbers(shop):
    result = attempt(shop, ["S-1,CUS-1,2026-03-01,pending,SH,PHN-1,6,", "S-2,CUS-1,2026-03-01,processing,SH,PHN-1,5,",
                            "S-3,CUS-1,2026-03-01,completed,SH,PHN-1,50,"])
    assert problems(result) == [(3, "Quantity", "PHN-1", "not enough stock of PHN-1: 11 wanted up to this row, 10 available")]


def test_dates_in_the_future_and_voids_before_orders_are_refused(shop):
    headers = samples.EN_HEADERS + ["voided_at"]
    result = attempt(shop, ["F-1,CUS-1,2999-01-01,pending,SH,TOY-1,1,,", "F-2,CUS-1,2026-03-02,voided,SH,TOY-1,1,,2026-03-01"],
                     headers)
    assert [(p[0], p[1]) for p in problems(result)] == [(2, "Order date"), (3, "Void date")]


def test_html_and_sql_in_text_are_data_not_code(shop):
    headers = ["code", "name", "city"]
    name = "<b>Bold</b> & 'Quote'); DROP TABLE customers;--"
    source = read_bytes("c.csv", samples.orders_csv([f'C-X,"{name}",<script>alert(1)</script>'], headers))
    assert run_import(shop.db, shop.users["admin"], source, propose("customers", source)).ok
    with shop.db.read() as cur:
        assert cur.execute("SELECT name, city FROM customers WHERE code = 'C-X'").fetchall() == [
            (name, "<script>alert(1)</script>")]


def test_checking_writes_nothing_and_previews_rows_as_stored(shop):
    before = snapshot(shop.db)
    source = read_bytes("orders.csv", samples.utf8_csv())
    result = check_import(shop.db, shop.users["ops_lead"], source, propose("orders", source))
    assert (result.ok, result.loaded, snapshot(shop.db)) == (True, 0, before)
    first = result.preview.iloc[0]
    assert (first["row"], first["order_no"], first["status"], first["qty"], float(first["order_total"])) == (
        2, "IMP-1001", "pending", 2, 6296.50)
    assert float(result.preview.iloc[3]["unit_price"]) == 99.50     # the list price fills a missing price
