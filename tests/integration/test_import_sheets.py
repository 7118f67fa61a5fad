"""Excel workbooks with several sheets: every sheet is listed with its row count, the first sheet holding a table
is read unless another is chosen (by name or number), an unknown sheet names the ones there are; and the mapping
file keeps the sheet and the date order."""
import pytest

from lib.errors import InvalidInput
from lib.imports import from_json, propose, read_bytes, run_import
from lib.imports.excel import Sheet, list_sheets
from tests.integration import import_samples as samples
from tests.integration.test_import_orders import EXPECTED, content


def order_rows() -> list[list]:
    """The sample orders as sheet rows (dates as ISO text), under the English headers."""
    return [samples.EN_HEADERS] + [[r[0], r[1], f"{r[2]:%Y-%m-%d %H:%M}", r[3], r[5], r[7], r[8], r[9]]
                                   for r in samples.ORDERS]


def book() -> bytes:
    """A cover sheet with a title only, an empty one, the orders, and a notes table."""
    return samples.workbook({"Cover": [["Export from ERP, March 2026"]], "Blank": [], "Orders": order_rows(),
                             "Notes": [["note", "by"], ["checked", "Li"]]})


def test_the_sheets_are_listed_and_the_first_table_is_read_by_default():
    assert list_sheets(book()) == ((Sheet("Cover", 0), Sheet("Blank", 0), Sheet("Orders", 6), Sheet("Notes", 1)),
                                   "Orders")
    source = read_bytes("export.xlsx", book())
    assert (source.sheet, source.rows, source.headers[0]) == ("Orders", 6, "order_no")
    assert [s.name for s in source.sheets] == ["Cover", "Blank", "Orders", "Notes"]


@pytest.mark.parametrize("choice", ["Notes", "notes", "4", 4])
def test_a_sheet_is_chosen_by_name_or_number(choice):
    source = read_bytes("export.xlsx", book(), sheet=choice)
    assert (source.sheet, source.headers, source.rows) == ("Notes", ["note", "by"], 1)


@pytest.mark.parametrize("choice", ["Returns", "5", "0", "", "-1"])
def test_an_unknown_sheet_names_the_sheets_there_are(choice):
    with pytest.raises(InvalidInput) as caught:
        read_bytes("export.xlsx", book(), sheet=choice)
    assert caught.value.key == "import.unknown_sheet"
    assert caught.value.message("en").endswith("its sheets are: 1 Cover, 2 Blank, 3 Orders, 4 Notes.")


def test_only_workbooks_have_sheets():
    with pytest.raises(InvalidInput) as caught:
        read_bytes("orders.csv", samples.utf8_csv(), sheet="Orders")
    assert caught.value.key == "import.sheet_not_excel"


def test_a_workbook_without_a_table_is_read_from_its_first_sheet():
    data = samples.workbook({"Cover": [["title"]], "Blank": []})
    assert list_sheets(data)[1] == "Cover"
    with pytest.raises(InvalidInput) as caught:
        read_bytes("empty.xlsx", data)
    assert caught.value.key == "import.no_rows_in_sheet"
    assert caught.value.message("en") == "The sheet Cover has a header but no data rows."


def test_the_orders_sheet_of_a_workbook_loads_as_every_other_format_does(shop):
    source = read_bytes("export.xlsx", book())
    result = run_import(shop.db, shop.users["ops_lead"], source, propose("orders", source))
    assert (result.ok, result.loaded) == (True, 6), result.problems
    assert content(shop.db) == EXPECTED


def test_the_mapping_file_keeps_the_sheet_and_the_date_order():
    source = read_bytes("export.xlsx", book(), sheet="Orders")
    mapping = propose("orders", source)
    mapping.date_order, mapping.sheet = "day_first", source.sheet
    again = from_json(mapping.to_json(), "orders")
    assert (again.date_order, again.sheet, again.columns) == ("day_first", "Orders", mapping.columns)
    assert from_json('{"columns": {}}', "orders").date_order == "auto"
    assert "date_order" not in propose("customers", read_bytes("c.csv", b"code,name\nC-1,x\n")).to_json()
    for text in ('{"columns": {}, "date_order": "sideways"}', '{"columns": {}, "date_order": 5}'):
        with pytest.raises(InvalidInput) as caught:
            from_json(text, "orders")
        assert caught.value.key == "import.bad_date_order"
    with pytest.raises(InvalidInput) as caught:
        from_json('{"columns": {}, "sheet": ["x"]}', "orders")
    assert caught.value.key == "import.bad_mapping_file"
