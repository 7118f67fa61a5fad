"""Order search and export (SPEC §3) against a real DuckDB."""
import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from lib.errors import InvalidInput
from lib.queries import export
from lib.queries.search import RESULT_COLUMNS, SORTS, SearchFilters, search_orders
from tests.integration.orders_fixture import NUMBERS, add_customer, add_orders, insert_order


@pytest.fixture
def world(shop):
    shop.ids = add_orders(shop)
    return shop


def numbers(world, user="ops", sort="created_at:desc", limit=50, offset=0, **filters):
    result = search_orders(world.db, world.users[user], SearchFilters(**filters), sort, limit, offset)
    return list(result.rows["order_no"])


def test_no_filter_lists_every_order_newest_first_with_the_total(world):
    result = search_orders(world.db, world.users["analyst"], SearchFilters())
    assert result.total == len(NUMBERS)
    assert list(result.rows["order_no"]) == NUMBERS[::-1]
    assert list(result.rows.columns) == list(RESULT_COLUMNS)


def test_a_row_carries_names_and_amounts(world):
    row = search_orders(world.db, world.users["ops"], SearchFilters(number="SO-20240105-00001")).rows.iloc[0]
    assert (row["customer"], row["rep"], row["rep_name"], row["assignee"], row["assignee_name"]) == \
        ("Acme Trading 艾克美", "sales", "Sales", "ops", "Ops")
    assert (row["status"], row["payment_status"], row["warehouse"]) == ("pending", "unpaid", "SH")
    assert float(row["total"]) == 2999.0 and row["id"] == world.ids["SO-20240105-00001"]


def test_exact_number_finds_only_that_order(world):
    assert numbers(world, number="SO-2024011") == ["SO-2024011"]
    assert numbers(world, number="so-20240105-00001") == ["SO-20240105-00001"]


def test_number_prefix_finds_every_order_starting_with_it(world):
    assert numbers(world, number="SO-202401") == [
        "SO-20240110-00012", "SO-20240110-00001", "SO-20240105-00002", "SO-20240105-00001", "SO-2024011"]
    assert numbers(world, number="SO-20240110-") == ["SO-20240110-00012", "SO-20240110-00001"]
    assert numbers(world, number="XX-") == []


def test_customer_name_contains_in_any_case(world):
    assert numbers(world, customer="acme TRADING") == ["SO-20240110-00001", "SO-20240105-00001"]
    assert numbers(world, customer="艾克美") == ["SO-20240110-00001", "SO-20240105-00001"]
    assert numbers(world, customer="retail") == ["SO-20240201-00001", "SO-20240105-00002", "SO-2024011"]


def test_source_tells_imported_orders_from_those_entered_in_the_app(world):
    every = numbers(world)
    with world.db.transaction() as cur:
        cur.execute("UPDATE orders SET source = 'import' WHERE order_no = 'SO-2024011'")
    assert numbers(world, source=["import"]) == ["SO-2024011"]
    assert numbers(world, source=["app"]) == [n for n in every if n != "SO-2024011"]
    assert numbers(world, source=["app", "import"]) == every
    assert SearchFilters.from_params({"source": "IMPORT"}).to_params() == {"source": ["import"]}


def test_date_range_includes_both_ends(world):
    assert numbers(world, date_from=date(2024, 1, 5), date_to=date(2024, 1, 10)) == [
        "SO-20240110-00001", "SO-20240105-00002", "SO-20240105-00001"]
    assert numbers(world, date_from=date(2024, 1, 11)) == ["SO-20240201-00001", "SO-20240110-00012"]
    assert numbers(world, date_to=date(2023, 12, 31)) == ["SO-2024011"]


@pytest.mark.parametrize("filters, expected", [
    ({"statuses": ["pending", "voided"]}, ["SO-20240110-00012", "SO-20240105-00001"]),
    ({"payment": ["refunded", "partially_refunded"]}, ["SO-20240201-00001", "SO-20240110-00012"]),
    ({"warehouse": ["GZ"]}, ["SO-20240201-00001", "SO-20240110-00001"]),
    ({"rep": ["sales2"]}, ["SO-20240110-00012", "SO-20240105-00002", "SO-2024011"]),
    ({"assignee": ["ops", "ops_lead"]}, ["SO-20240110-00012", "SO-20240110-00001", "SO-20240105-00001"]),
    ({"min_total": Decimal("3098.50")}, ["SO-20240201-00001", "SO-20240110-00012", "SO-20240105-00002"]),
    ({"max_total": Decimal("199")}, ["SO-20240110-00001", "SO-2024011"]),
    ({"min_total": Decimal("100"), "max_total": Decimal("3000")}, ["SO-20240110-00001", "SO-20240105-00001"]),
    ({"product": "PHN-2"}, ["SO-20240105-00002"]),
    ({"product": "phn"}, ["SO-20240201-00001", "SO-20240110-00012", "SO-20240105-00002", "SO-20240105-00001"]),
    ({"product": "机器人"}, ["SO-20240201-00001", "SO-20240110-00001", "SO-2024011"]),
    ({"category": ["toys"]}, ["SO-20240201-00001", "SO-20240110-00001", "SO-2024011"]),
    ({"category": ["phones", "toys"]}, NUMBERS[::-1]),
])
def test_each_filter_alone(world, filters, expected):
    assert numbers(world, **filters) == expected


def test_sku_of_a_product_not_in_the_catalogue_still_matches_exactly(world):
    insert_order(world.db, "IMP-1", lines=[("LEGACY-9", 1, "5.00")])
    assert numbers(world, product="LEGACY-9") == ["IMP-1"]


def test_filters_combine(world):
    assert numbers(world, customer="acme", statuses=["shipped"], warehouse=["GZ"], category=["toys"],
                   date_from=date(2024, 1, 1), rep=["sales"], assignee=["ops_lead"],
                   max_total=Decimal("500"), payment=["paid"], number="SO-2024") == ["SO-20240110-00001"]
    assert numbers(world, customer="acme", warehouse=["SH"], category=["toys"]) == []
    assert numbers(world, product="TOY-1", category=["phones"]) == ["SO-20240201-00001"]


def test_a_sales_rep_sees_only_their_own_orders_whatever_the_filters(world):
    own = ["SO-20240201-00001", "SO-20240110-00001", "SO-20240105-00001"]
    assert numbers(world, user="sales") == own
    assert search_orders(world.db, world.users["sales"], SearchFilters()).total == 3
    assert numbers(world, user="sales", rep=["sales2"]) == []
    assert numbers(world, user="sales", number="SO-20240105-00002") == []
    assert numbers(world, user="sales2", category=["toys"]) == ["SO-2024011"]


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_every_allowed_sort_field_works_both_ways(world, sort):
    up, down = numbers(world, sort=sort), numbers(world, sort=f"{sort}:desc")
    assert sorted(up) == sorted(NUMBERS) and sorted(down) == sorted(NUMBERS)


def test_sort_orders_by_the_chosen_field(world):
    assert numbers(world, sort="total")[:2] == ["SO-2024011", "SO-20240110-00001"]
    assert numbers(world, sort="total:desc")[0] == "SO-20240110-00012"
    assert numbers(world, sort="customer")[:2] == ["SO-20240105-00001", "SO-20240110-00001"]  # Acme, then by id
    assert numbers(world, sort="order_no:asc")[:2] == ["SO-20240105-00001", "SO-20240105-00002"]


@pytest.mark.parametrize("sort", ["id", "total; DROP TABLE orders", "created_at:sideways", "o.total", ""])
def test_sort_outside_the_allow_list_is_refused(world, sort):
    if sort == "":
        assert len(numbers(world, sort=sort)) == len(NUMBERS)  # empty means the default
        return
    with pytest.raises(InvalidInput) as info:
        numbers(world, sort=sort)
    assert info.value.key == "search.bad_sort"


def test_pages_cover_every_match_once_with_the_full_total(world):
    seen = []
    for offset in (0, 2, 4, 6):
        result = search_orders(world.db, world.users["ops"], SearchFilters(), "total:desc", limit=2, offset=offset)
        assert result.total == len(NUMBERS)
        seen += list(result.rows["order_no"])
    assert sorted(seen) == sorted(NUMBERS) and len(seen) == len(NUMBERS)


def test_pages_with_a_line_filter_count_all_matches(world):
    result = search_orders(world.db, world.users["ops"], SearchFilters(category=["phones"]), limit=2, offset=2)
    assert result.total == 4
    assert list(result.rows["order_no"]) == ["SO-20240105-00002", "SO-20240105-00001"]
    beyond = search_orders(world.db, world.users["ops"], SearchFilters(category=["phones"]), limit=2, offset=10)
    assert beyond.total == 4 and beyond.rows.empty


@pytest.mark.parametrize("limit, offset", [(0, 0), (1001, 0), (10, -1), ("ten", 0)])
def test_bad_page_sizes_are_refused(world, limit, offset):
    with pytest.raises(InvalidInput) as info:
        search_orders(world.db, world.users["ops"], SearchFilters(), limit=limit, offset=offset)
    assert info.value.key == "search.bad_page"


@pytest.mark.parametrize("text", ["' OR '1'='1", "%", "_", "'; DROP TABLE orders; --", "<script>alert(1)</script>",
                                  "\\", "*"])
def test_sql_and_markup_in_text_filters_is_just_text(world, text):
    for field in ("number", "customer", "product"):
        assert numbers(world, **{field: text}) == []
    assert numbers(world) == NUMBERS[::-1]  # nothing was changed


def test_quotes_and_markup_match_literally(world):
    assert numbers(world, customer="o'brien <b>&") == ["SO-20240110-00012"]
    assert numbers(world, statuses=["voided"], rep=["x' OR 1=1 --"]) == []


def test_filters_round_trip_through_url_params():
    filters = SearchFilters(number="SO-2024", customer="acme", date_from=date(2024, 1, 1), date_to=date(2024, 2, 1),
                            statuses=["pending", "voided"], payment=["paid"], product="PHN", category=["toys"],
                            rep=["sales"], assignee=["ops"], warehouse=["SH", "GZ"], min_total=Decimal("10.5"),
                            max_total=Decimal("99999"))
    params = filters.to_params()
    assert params["from"] == "2024-01-01" and params["status"] == ["pending", "voided"]
    assert SearchFilters.from_params(params) == filters
    assert SearchFilters().to_params() == {}


def test_url_params_accept_single_values_lists_and_commas():
    filters = SearchFilters.from_params({"status": "pending,voided", "warehouse": ["SH", "GZ"], "customer": ["a", "b"],
                                         "rep": " Sales ", "min_total": "1,200.50", "to": "", "unrelated": "x"})
    assert filters.statuses == ["pending", "voided"] and filters.warehouse == ["SH", "GZ"]
    assert filters.customer == "b" and filters.rep == ["sales"] and filters.min_total == Decimal("1200.50")
    assert filters.date_to is None


def test_repeated_params_are_read_with_get_all_like_st_query_params():
    class QueryParams(dict):  # the two methods of st.query_params that from_params uses
        def get_all(self, key):
            value = self.get(key)
            return [] if value is None else ["pending", "voided"] if key == "status" else [value]

    filters = SearchFilters.from_params(QueryParams(status="voided", customer="acme"))
    assert filters.statuses == ["pending", "voided"] and filters.customer == "acme"


@pytest.mark.parametrize("params, key", [
    ({"from": "2024-13-01"}, "search.bad_date"),
    ({"to": "yesterday"}, "search.bad_date"),
    ({"from": "2024-02-01", "to": "2024-01-01"}, "search.bad_date_range"),
    ({"status": "lost"}, "search.unknown_status"),
    ({"payment": ["paid", "free"]}, "search.unknown_payment"),
    ({"source": "fax"}, "search.unknown_source"),
    ({"min_total": "abc"}, "search.bad_amount"),
    ({"max_total": "NaN"}, "search.bad_amount"),
    ({"max_total": "1e30"}, "search.bad_amount"),
    ({"min_total": "10", "max_total": "5"}, "search.bad_amount_range"),
    ({"customer": "x" * 101}, "search.text_too_long"),
    ({"warehouse": ",".join(f"W{i}" for i in range(201))}, "search.too_many_values"),
])
def test_bad_url_params_are_refused_with_a_clear_key(params, key):
    with pytest.raises(InvalidInput) as info:
        SearchFilters.from_params(params)
    assert info.value.key == key


def test_search_validates_filters_built_in_code(world):
    with pytest.raises(InvalidInput):
        search_orders(world.db, world.users["ops"], SearchFilters(statuses=["gone"]))


# --- export ---------------------------------------------------------------------------------

def test_csv_export_has_every_match_not_one_page_with_a_bom(world):
    fractions = []
    data = export.export_csv(world.db, world.users["ops"], SearchFilters(), "created_at:desc", fractions.append)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["order_no"] for r in rows] == NUMBERS[::-1]
    assert rows[-1]["customer"] == "Beta Retail" and rows[-1]["total"] == "50.00"
    assert rows[0]["created_at"] == "2024-02-01 12:00:00"
    assert "艾克美" in data.decode("utf-8")
    assert fractions and fractions[-1] == 1.0


def test_export_streams_in_chunks_and_respects_filters_and_scope(world, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    fractions = []
    data = export.export_csv(world.db, world.users["sales"], SearchFilters(), "order_no", fractions.append)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["order_no"] for r in rows] == ["SO-20240105-00001", "SO-20240110-00001", "SO-20240201-00001"]
    assert fractions == pytest.approx([2 / 3, 1.0, 1.0])


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"])
def test_formula_like_text_is_neutralised_in_csv_and_excel(world, name):
    add_customer(world.db, "EVIL", name)
    insert_order(world.db, "SO-EVIL", customer="EVIL", created="2025-01-01 00:00:00")
    filters = SearchFilters(number="SO-EVIL")
    rows = list(csv.reader(io.StringIO(export.export_csv(world.db, world.users["ops"], filters).decode("utf-8-sig"),
                                       newline="")))
    assert rows[1][3] == "'" + name
    book = openpyxl.load_workbook(io.BytesIO(export.export_excel(world.db, world.users["ops"], filters)))
    cell = book.active.cell(row=2, column=4).value
    assert cell.startswith("'") and cell.endswith(name[1:])  # openpyxl keeps \r as _x000D_


def test_excel_export_has_typed_cells_for_all_matches(world):
    data = export.export_excel(world.db, world.users["ops"], SearchFilters(warehouse=["SH"]), "total")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = list(sheet.values)
    assert values[0][:3] == ("order_no", "status", "payment_status")
    assert [r[0] for r in values[1:]] == ["SO-2024011", "SO-20240105-00001", "SO-20240105-00002",
                                          "SO-20240110-00012"]
    assert values[1][4] == 50 and values[1][6].year == 2023


def test_excel_export_refuses_more_rows_than_excel_holds(world, monkeypatch):
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 3)
    with pytest.raises(InvalidInput) as info:
        export.export_excel(world.db, world.users["ops"], SearchFilters())
    assert info.value.key == "export.too_many_rows" and info.value.params["n"] == len(NUMBERS)
    assert export.export_excel(world.db, world.users["ops"], SearchFilters(warehouse=["GZ"]))
