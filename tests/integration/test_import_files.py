"""Reading import files: encodings and delimiters are detected, and anything too big, too wide, malformed or not
really CSV/Excel/Parquet is refused with a clear message before a row is looked at."""
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.errors import InvalidInput
from lib.imports import from_json, propose, read_bytes, read_path
from lib.imports.mapping import check
from tests.integration import import_samples as samples


def refusal(name: str, data: bytes, encoding: str = "auto") -> str:
    with pytest.raises(InvalidInput) as caught:
        read_bytes(name, data, encoding)
    return caught.value.key


def test_utf8_with_bom_gbk_and_explicit_encodings_are_read():
    assert read_bytes("a.csv", samples.utf8_csv()).encoding == "utf-8-sig"
    assert read_bytes("a.csv", samples.utf8_csv()[3:]).encoding == "utf-8"
    assert read_bytes("a.csv", samples.gbk_csv()).encoding == "gb18030"
    assert read_bytes("a.csv", samples.gbk_csv(), "gbk").headers[0] == "订单编号"
    assert refusal("a.csv", samples.gbk_csv(), "utf-8") == "import.wrong_encoding"
    assert refusal("a.csv", samples.gbk_csv(), "latin-9") == "import.bad_encoding"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter):
    text = samples.utf8_csv().decode("utf-8-sig").replace(",", delimiter)
    source = read_bytes("orders.txt", text.encode())
    assert (source.delimiter, len(source.headers), source.rows) == (delimiter, 8, 6)


def test_quoted_fields_keep_commas_and_newlines_and_rows_count_from_the_header():
    source = read_bytes("c.csv", b'code,name\nC-1,"Acme, Ltd"\nC-2,"two\nlines"\nC-3,x\n')
    assert source.values("c1") == ["Acme, Ltd", "two\nlines", "x"]
    assert source.values("_row") == [2, 3, 4]


def test_headers_are_made_unique_and_never_blank():
    assert read_bytes("a.csv", b"a,,a,b\n1,2,3,4\n").headers == ["a", "column 2", "a (2)", "b"]


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    with pytest.raises(InvalidInput) as caught:
        read_bytes("orders.csv", samples.utf8_csv(), max_mb=0.0001)   # about 100 bytes
    assert caught.value.key == "import.too_big"
    path = tmp_path / "orders.csv"
    path.write_bytes(samples.utf8_csv())
    with pytest.raises(InvalidInput) as caught:
        read_path(path, max_mb=0.0001)
    assert caught.value.key == "import.too_big" and "--max-mb" in caught.value.message("en")


def test_too_many_columns_are_refused_in_every_format():
    header = ",".join(f"c{i}" for i in range(201))
    assert refusal("wide.csv", f"{header}\n{header}\n".encode()) == "import.too_many_columns"
    out = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": [1] for i in range(201)}), out)
    assert refusal("wide.parquet", out.getvalue()) == "import.too_many_columns"


@pytest.mark.parametrize("name, data, key", [
    ("junk.csv", bytes(range(256)) * 40, "import.binary_file"),
    ("page.csv", b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>", "import.html_file"),
    ("page.xlsx", b"<html><body><table><tr><td>1</td></tr></table></body></html>", "import.html_file"),
    ("text.xlsx", b"order_no,sku\nA,B\n", "import.not_excel"),
    ("old.xls", bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600, "import.old_excel"),
    ("zip.xlsx", b"PK\x03\x04" + b"\0" * 100, "import.bad_excel"),
    ("data.parquet", b"order_no\nA\n", "import.not_parquet"),
    ("broken.parquet", b"PAR1" + b"\1" * 100, "import.bad_parquet"),
    ("notes.txt", b"just some words\nwithout any columns\n", "import.not_delimited"),
    ("empty.csv", b"", "import.empty_file"),
    ("header.csv", b"order_no,sku\n", "import.no_rows"),
    ("ragged.csv", b"a,b,c\n1,2,3\n4,5\n", "import.ragged_row"),
])
def test_files_that_are_not_what_they_claim_are_refused(name, data, key):
    assert refusal(name, data) == key


def test_excel_formulas_are_read_as_their_stored_values():
    source = read_bytes("orders.xlsx", samples.excel())
    assert source.values("c7")[0] == "2999"
    assert source.values("_row") == [2, 3, 4, 5, 6, 7]


def test_a_mapping_saved_as_json_is_taken_back_and_checked():
    source = read_bytes("orders.csv", samples.gbk_csv())
    mapping = propose("orders", source)
    again = from_json(mapping.to_json(), "orders")
    assert (again.columns, again.values) == (mapping.columns, mapping.values)
    for text, key in [("not json", "import.bad_mapping_file"), ('{"kind": "stock", "columns": {}}', "import.mapping_other_kind"),
                      ('{"columns": {"nope": "x"}}', "import.mapping_unknown_field")]:
        with pytest.raises(InvalidInput) as caught:
            from_json(text, "orders")
        assert caught.value.key == key
    again.columns["sku"] = "no such column"
    with pytest.raises(InvalidInput) as caught:
        check(again, source)
    assert caught.value.key == "import.mapping_column_missing"
    del again.columns["sku"], again.columns["created_at"]
    with pytest.raises(InvalidInput) as caught:
        check(again, source)
    assert caught.value.message("en") == "Choose a column for Order date."   # a total is optional (issue #15)


def test_excel_unicode_text_export_is_read():
    """Excel's "Unicode text": UTF-16 with a BOM, separated by tabs."""
    text = samples.utf8_csv().decode("utf-8-sig").replace(",", "\t")
    source = read_bytes("orders.txt", text.encode("utf-16"))
    assert (source.encoding, source.delimiter, source.rows, source.headers[0]) == ("utf-16", "\t", 6, "order_no")
