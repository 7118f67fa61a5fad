"""Real ERP layouts (issue #15): title rows above the header are passed over, in CSV and Excel, or skipped by
count (--skip-rows, the mapping's "skip_rows"); a key/value cover sheet loses to the sheet with the table; a value
longer than a block is refused in plain words; the size limit is a rule on the Rules page and --max-mb."""
import json
from datetime import date

import pytest

from lib.analytics.filters import AnalyticsFilters
from lib.analytics.voids import rates_by
from lib.cli.common import acting_user
from lib.db import connect
from lib.errors import InvalidInput
from lib.imports import check_import, from_json, propose, read_bytes, run_import
from lib.imports.fields import FIELDS
from lib.imports.mapping import check, template, with_proposals
from lib.queries.check import run_checks
from lib.queries.settings import read_rules
from lib.services import voids
from lib.services.settings import update_rules
from tests.integration import import_samples as samples
from tests.integration.cli_helpers import cli
from tests.integration.test_import_cli import desk  # noqa: F401  (desk is a fixture)
from tests.integration.test_import_orders import EXPECTED, content
from tests.integration.test_import_sheets import order_rows

TITLES = "Sales orders export\nExported 2026-03-09 by ERP,,,\n\n"


def titled_csv() -> bytes:
    """The sample orders under two title rows and a blank line (the header is line 4)."""
    return TITLES.encode() + samples.utf8_csv()[3:]


@pytest.mark.parametrize("padded", [False, True])
def test_title_rows_above_a_csv_header_are_passed_over(padded):
    data = titled_csv() if not padded else b"Sales orders export,,,,,,,\n" + samples.utf8_csv()[3:]
    source = read_bytes("orders.csv", data)
    first = 5 if not padded else 3
    assert (source.headers[0], source.rows, source.header_row) == ("order_no", 6, first - 1)
    assert source.values("_row")[:2] == [first, first + 1]   # row numbers as the file shows them
    assert source.values("c0")[0] == "IMP-1001"


def test_a_titled_file_loads_as_a_plain_one_and_rejects_name_the_files_own_rows(shop):
    bad = read_bytes("orders.csv", titled_csv().replace(b",2,2999.00", b",two,2999.00"))
    problems = run_import(shop.db, shop.users["ops_lead"], bad, propose("orders", bad)).problems
    assert list(problems["row"]) == [5]   # the first data row is line 5 of the file
    source = read_bytes("orders.csv", titled_csv())
    result = run_import(shop.db, shop.users["ops_lead"], source, propose("orders", source))
    assert (result.ok, result.loaded) == (True, 6), result.problems
    assert content(shop.db) == EXPECTED


def test_rows_to_skip_can_be_given_and_are_checked(tmp_path):
    data = b"report\nsecond title line with, a comma\norder_no,sku\nA-1,PHN-1\n"
    source = read_bytes("o.csv", data, skip_rows=2)
    assert (source.headers, source.values("_row")) == (["order_no", "sku"], [4])
    for bad in (-1, "two", 5000):
        with pytest.raises(InvalidInput) as caught:
            read_bytes("o.csv", data, skip_rows=bad)
        assert caught.value.key == "import.bad_skip_rows"


def test_an_excel_sheet_with_titles_and_a_key_value_cover_sheet():
    data = samples.workbook({"Info": [["Exported by", "ERP"], ["Date", "2026-03-09"], ["Rows", "6"]],
                             "Orders": [["Sales orders, March"], []] + order_rows()})
    source = read_bytes("export.xlsx", data)
    assert (source.sheet, source.header_row, source.rows, source.headers[0]) == ("Orders", 3, 6, "order_no")
    assert source.values("_row")[0] == 4
    assert read_bytes("export.xlsx", data, sheet="Orders", skip_rows=2).header_row == 3
    mapping = propose("orders", source)
    mapping.skip_rows = source.header_row - 1
    assert from_json(mapping.to_json(), "orders").skip_rows == 2
    assert json.loads(mapping.to_json())["skip_rows"] == 2


def test_a_quote_left_open_is_refused_in_plain_words_naming_the_row():
    data = b"code,name\nC-1,ok\nC-2,\"" + b"x" * (2 << 20) + b"\nC-3,swallowed\n"
    with pytest.raises(InvalidInput) as caught:
        read_bytes("customers.csv", data, max_mb=64)
    assert caught.value.key == "import.huge_field"
    assert caught.value.message("en").startswith("Near row 3, a value is longer than 1 MB. Is a quote left open")


def test_the_size_limit_is_a_rule(shop):
    assert _rules(shop.db).import_max_mb == 1024
    update_rules(shop.db, shop.users["admin"], import_max_mb=1)
    assert _rules(shop.db).import_max_mb == 1
    for bad in (0, 20_000, "lots"):
        with pytest.raises(InvalidInput) as caught:
            update_rules(shop.db, shop.users["admin"], import_max_mb=bad)
        assert caught.value.key == "rules.import_max_range"


def test_the_command_reads_the_rule_and_max_mb_raises_it_for_one_run(desk):
    path, folder = desk
    big = folder / "customers.csv"
    big.write_bytes(b"code,name\n" + b"".join(b"C-%d,%s\n" % (i, b"n" * 60) for i in range(20_000)))   # ~1.4 MB
    db = connect(str(path))
    try:
        update_rules(db, acting_user(db, "admin"), import_max_mb=1)
    finally:
        db.close()
    refused = cli(path, "import", "customers", str(big), "--user", "admin", "--dry-run")
    assert refused.returncode == 1 and "the limit is 1 MB" in refused.stderr and "--max-mb" in refused.stderr
    allowed = cli(path, "import", "customers", str(big), "--user", "admin", "--dry-run", "--max-mb", "2")
    assert allowed.returncode == 0, allowed.stderr
    wrong = cli(path, "import", "customers", str(big), "--user", "admin", "--max-mb", "-3")
    assert wrong.returncode == 1 and "--max-mb" in wrong.stderr


def _rules(db):
    with db.read() as cur:
        return read_rules(cur)


def _import_orders_csv(shop, data: bytes):
    """Import `data` as an orders CSV with the proposed mapping; the result, checked to have loaded."""
    source = read_bytes("orders.csv", data)
    result = run_import(shop.db, shop.users["ops_lead"], source, propose("orders", source))
    assert result.ok, result.problems
    return result


def _lines_of(shop, order_no: str, columns: str) -> list[tuple]:
    with shop.db.read() as cur:
        return cur.execute(f"SELECT {columns} FROM order_lines l JOIN orders o ON o.id = l.order_id"
                           " WHERE o.order_no = ? ORDER BY l.line_no", [order_no]).fetchall()


def test_one_sku_on_two_lines_of_an_order_loads_both_and_counts_the_order_once(shop):
    """The same item at two prices and as a free gift, as ERPs write them; line numbers generated."""
    data = ("order_no,customer_code,created_at,status,warehouse,sku,qty,unit_price\n"
            "DUP-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,2,99.50\n"
            "DUP-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,1,80.00\n"
            "DUP-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,1,0\n").encode()
    result = _import_orders_csv(shop, data)
    lines = _lines_of(shop, "DUP-1", "line_no, qty, unit_price, repeat_sku")
    with shop.db.read() as cur:
        total, reserved = cur.execute("SELECT total, (SELECT reserved FROM stock_balances WHERE warehouse = 'SH'"
                                      " AND sku = 'TOY-1') FROM orders WHERE order_no = 'DUP-1'").fetchall()[0]
    assert [(n, q, float(p), r) for n, q, p, r in lines] == [(1, 2, 99.5, False), (2, 1, 80.0, True),
                                                             (3, 1, 0.0, True)]
    assert float(total) == 279.0 and reserved == 4
    voids.void_order(shop.db, shop.users["ops_lead"], "DUP-1", "customer_cancelled")
    with shop.db.read() as cur:
        assert cur.execute("SELECT reserved FROM stock_balances WHERE warehouse = 'SH' AND sku = 'TOY-1'"
                           ).fetchall()[0][0] == 0
    rates = rates_by(shop.db, shop.users["analyst"], AnalyticsFilters(date(2026, 1, 1), date(2026, 12, 31)), "sku")
    toy = rates[rates["key"] == "TOY-1"].iloc[0]
    assert (toy["orders"], toy["voids"]) == (1, 1)   # one order holding TOY-1, voided once
    assert run_checks(shop.db)["ok"]


def test_repeated_line_numbers_in_one_order_are_still_refused(shop):
    data = ("order_no,customer_code,created_at,status,warehouse,sku,qty,line_no\n"
            "LN-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,1,1\n"
            "LN-1,CUS-1,2026-03-01 10:00,pending,SH,PHN-1,1,1\n").encode()
    source = read_bytes("orders.csv", data)
    result = run_import(shop.db, shop.users["ops_lead"], source, propose("orders", source))
    assert list(result.problems["row"]) == [3] and result.loaded == 0


def test_a_field_the_file_lacks_takes_a_fixed_value_from_the_mapping(shop):
    data = ("order_no,customer_code,created_at,status,sku,qty\n"
            "FX-1,CUS-1,2026-03-01 10:00,pending,PHN-1,1\n"
            "FX-2,CUS-2,2026-03-02 11:00,pending,PHN-1,2\n").encode()
    source = read_bytes("no-warehouse.csv", data)
    mapping = with_proposals(from_json(json.dumps({"columns": propose("orders", source).columns,
                                                   "constants": {"warehouse": "GZ"}}), "orders"), source)
    assert json.loads(mapping.to_json())["constants"] == {"warehouse": "GZ"}
    result = run_import(shop.db, shop.users["ops_lead"], source, mapping)
    assert result.ok, result.problems
    with shop.db.read() as cur:
        assert cur.execute("SELECT DISTINCT warehouse FROM orders WHERE order_no LIKE 'FX-%'").fetchall() == [("GZ",)]
    unknown = with_proposals(from_json(json.dumps({"columns": mapping.columns, "constants": {"warehouse": "XX"}}),
                                       "orders"), source)
    bad = run_import(shop.db, shop.users["ops_lead"], read_bytes("o.csv", data.replace(b"FX-", b"FY-")), unknown)
    assert bad.loaded == 0 and set(bad.problems["field"]) == {"Warehouse"}


def test_a_fixed_value_and_a_column_for_one_field_are_refused():
    source = read_bytes("o.csv", samples.utf8_csv())
    mapping = propose("orders", source)
    mapping.constants = {"warehouse": "SH"}
    with pytest.raises(InvalidInput) as caught:
        check(mapping, source)
    assert caught.value.key == "import.mapping_constant_and_column"


def test_an_unknown_field_is_refused_listing_the_fields_and_former_names_still_read():
    with pytest.raises(InvalidInput) as caught:
        from_json('{"columns": {"customer": "Kunde"}}', "customers")
    assert caught.value.message("en") == ("The mapping names fields this import does not have: customer. Its fields"
                                          " are: customer_code, customer_name, city, phone.")
    with pytest.raises(InvalidInput) as caught:
        from_json('{"columns": {}, "constants": {"colour": "red"}}', "products")
    assert "colour" in caught.value.message("en") and "product_name" in caught.value.message("en")
    former = from_json('{"columns": {"code": "Code", "name": "Name"}}', "customers")   # saved before the rename
    assert former.columns == {"customer_code": "Code", "customer_name": "Name"}


@pytest.mark.parametrize("kind", ["orders", "lines", "customers", "products", "stock"])
def test_the_template_lists_every_field_and_reads_back_as_an_empty_mapping(kind, desk):
    path, folder = desk
    out = folder / f"{kind}.json"
    run = cli(path, "import", kind, str(out), "--template")
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["columns"]) == set(data["_fields"]) == {f.name for f in FIELDS[kind]}
    assert all(note.startswith(("required; ", "optional; ")) for note in data["_fields"].values())
    assert data["_fields"][FIELDS[kind][0].name].startswith("required; ")
    again = from_json(out.read_text(encoding="utf-8"), kind)
    assert (again.columns, again.constants, again.skip_rows) == ({}, {}, None)
    printed = cli(path, "import", kind, "--template")
    assert json.loads(printed.stdout) == data


def test_a_filled_in_template_imports_with_the_files_own_warehouse_words(shop, tmp_path):
    data = ("单号,客户,日期,状态,库房,货品,件数\n"
            "TW-1,CUS-1,2026-03-01 10:00,已确认,上海一号库,PHN-1,1\n"
            "TW-2,CUS-2,2026-03-02 11:00,已确认,广州总仓,PHN-1,1\n").encode()
    filled = json.loads(template("orders"))
    filled["columns"].update({"order_no": "单号", "customer_code": "客户", "created_at": "日期", "status": "状态",
                              "warehouse": "库房", "sku": "货品", "qty": "件数"})
    filled["values"]["warehouse"] = {"上海一号库": "SH", "广州总仓": "GZ"}
    source = read_bytes("erp.csv", data)
    mapping = with_proposals(from_json(json.dumps(filled, ensure_ascii=False), "orders"), source)
    result = run_import(shop.db, shop.users["ops_lead"], source, mapping)
    assert result.ok, result.problems
    with shop.db.read() as cur:
        assert cur.execute("SELECT order_no, warehouse, status FROM orders WHERE order_no LIKE 'TW-%' ORDER BY 1"
                           ).fetchall() == [("TW-1", "SH", "processing"), ("TW-2", "GZ", "processing")]
    with pytest.raises(InvalidInput) as caught:
        from_json('{"columns": {}, "values": {"colour": {"red": "R"}}}', "orders")
    assert caught.value.key == "import.mapping_unknown_field"


ERP_LINES = ("order_no,customer_code,created_at,status,warehouse,sku,qty,unit_price,total\n"
             "TT-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,2,100.00,226.00\n"
             "TT-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,1,0,226.00\n"
             "TT-2,CUS-2,2026-03-02 11:00,pending,SH,TOY-1,1,50.00,56.50\n")


@pytest.mark.parametrize("totals, expected", [("keep", ["226.00", "56.50"]), ("lines", ["200.00", "50.00"])])
def test_an_erp_total_with_lines_is_kept_unless_the_mapping_says_lines(shop, totals, expected):
    source = read_bytes("erp.csv", ERP_LINES.encode())
    mapping = propose("orders", source)
    assert mapping.totals == "keep"   # the default: the ERP's total includes tax, discount and freight
    mapping.totals = totals
    assert from_json(mapping.to_json(), "orders").totals == totals
    result = run_import(shop.db, shop.users["ops_lead"], source, mapping)
    assert result.ok, result.problems
    with shop.db.read() as cur:
        assert [str(t) for (t,) in cur.execute("SELECT total FROM orders WHERE order_no LIKE 'TT-%' ORDER BY order_no")
                .fetchall()] == expected
    assert run_checks(shop.db)["ok"]


def test_an_orders_file_without_totals_then_its_lines_or_a_recomputed_total(shop):
    orders = ("order_no,customer_code,created_at,status,warehouse,total\n"
              "HT-1,CUS-1,2026-03-01 10:00,pending,SH,\n"       # no total: the sum of its lines
              "HT-2,CUS-1,2026-03-01 11:00,pending,SH,999.00\n").encode()   # the ERP's: kept unless "lines"
    headers_only = read_bytes("orders.csv", orders.replace(b",total", b"").replace(b",\n", b"\n")
                              .replace(b",999.00", b""))
    assert check_import_ok(shop, headers_only)   # an orders file may have no total column at all
    lines = ("order_no,sku,qty,unit_price\nHT-1,TOY-1,2,10.00\nHT-2,TOY-1,1,10.00\n").encode()
    with_total = read_bytes("orders.csv", orders)
    assert run_import(shop.db, shop.users["ops_lead"], with_total, propose("orders", with_total)).ok
    source = read_bytes("lines.csv", lines)
    mapping = propose("lines", source)
    result = run_import(shop.db, shop.users["ops_lead"], source, mapping)
    assert result.ok, result.problems
    with shop.db.read() as cur:
        assert cur.execute("SELECT order_no, CAST(total AS VARCHAR) FROM orders WHERE order_no LIKE 'HT-%'"
                           " ORDER BY 1").fetchall() == [("HT-1", "20.00"), ("HT-2", "999.00")]


def test_the_preview_totals_count_only_the_lines_that_load(shop):
    data = ("order_no,customer_code,created_at,status,warehouse,sku,qty,unit_price\n"
            "PV-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,2,10.00\n"
            "PV-1,CUS-1,2026-03-01 10:00,pending,SH,NOPE-1,5,100.00\n").encode()
    source = read_bytes("orders.csv", data)
    result = check_import(shop.db, shop.users["ops_lead"], source, propose("orders", source))
    assert result.rejected == 1
    assert [float(t) for t in result.preview["order_total"]] == [20.0, 20.0]   # not 520


def check_import_ok(shop, source) -> bool:
    result = check_import(shop.db, shop.users["ops_lead"], source, propose("orders", source))
    return result.ok or print(result.problems)


def test_messages_about_a_workbook_name_the_sheet_read():
    data = samples.workbook({"Info": [["Exported by", "ERP"]], "Orders": order_rows()})
    source = read_bytes("export.xlsx", data)
    mapping = propose("orders", source)
    mapping.columns["rep"] = "Salesperson"
    with pytest.raises(InvalidInput) as caught:
        check(mapping, source)
    assert caught.value.message("en").startswith("The sheet Orders has no column Salesperson, which the mapping uses."
                                                 " Its columns are: order_no, customer_code,")
    wide = samples.workbook({"Wide": [[f"c{i}" for i in range(201)], ["x"] * 201]})
    with pytest.raises(InvalidInput) as caught:
        read_bytes("wide.xlsx", wide)
    assert caught.value.message("en") == "The sheet Wide has 201 columns; at most 200 can be imported."


def test_reading_a_long_csv_reports_its_progress(monkeypatch, tmp_path):
    from lib.imports import readers

    monkeypatch.setattr(readers, "BLOCK_BYTES", 4096)   # many blocks from a small file
    path = tmp_path / "long.csv"
    path.write_text("order_no,sku,qty\n" + "".join(f"A-{i},PHN-1,{i % 9 + 1}\n" for i in range(5000)))
    heard = []
    source = readers.read_path(path, progress=heard.append)
    assert source.rows == 5000 and len(heard) > 10
    assert heard == sorted(heard) and heard[-1] == 1.0 and heard[0] < 0.2


def test_a_blank_line_number_comes_after_the_numbers_given(shop):
    # "2" and a blank used to make two lines 2; with equal values the order's main line was then anyone's guess.
    data = ("order_no,customer_code,created_at,status,warehouse,sku,qty,unit_price,line_no\n"
            "LB-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,1,100,2\n"
            "LB-1,CUS-1,2026-03-01 10:00,pending,SH,PHN-1,1,100,\n"
            "LB-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,1,5,\n").encode()
    _import_orders_csv(shop, data)
    lines = _lines_of(shop, "LB-1", "l.line_no, l.sku")
    with shop.db.read() as cur:
        main = cur.execute("SELECT main_sku FROM orders WHERE order_no = 'LB-1'").fetchall()
    assert lines == [(2, "TOY-1"), (3, "PHN-1"), (4, "TOY-1")] and main == [("TOY-1",)]
    assert run_checks(shop.db)["ok"]
