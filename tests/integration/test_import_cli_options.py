"""`import … --sheet NAME|NUMBER` and `--date-order auto|day_first|month_first` (and the same from the mapping
file, the flag winning), offsets read in the process's local time zone; run in-process on a database file."""
import json
import time

import pytest

from lib.db import connect
from lib.imports import propose, read_bytes
from tests.integration import import_samples as samples
from tests.integration.cli_helpers import cli
from tests.integration.test_import_cli import desk  # noqa: F401  (desk is a fixture)
from tests.integration.test_import_sheets import book


def created(path) -> dict:
    db = connect(str(path))   # a DuckDB file or a PostgreSQL URL (--backend=postgresql)
    try:
        with db.read() as cur:
            return {str(k): f"{v:%Y-%m-%d %H:%M}" for k, v in cur.execute(
                "SELECT order_no, created_at FROM orders WHERE source = 'import' ORDER BY 1").fetchall()}
    finally:
        db.close()


def day_first_csv(folder):
    """The sample orders with dates written 05/03/2026 09:15: every one could be either order."""
    file = folder / "day-first.csv"
    file.write_bytes(samples.dated_csv(lambda t: f"{t:%d/%m/%Y %H:%M}"))
    return file


def test_the_default_sheet_a_named_one_and_an_unknown_one(desk):
    path, folder = desk
    file = folder / "export.xlsx"
    file.write_bytes(book())
    notes = cli(path, "import", "customers", str(file), "--sheet", "4", "--user", "admin", "--dry-run")
    assert notes.returncode == 1 and notes.stderr.strip() == "error: Choose a column for Customer code and Customer name."
    unknown = cli(path, "import", "orders", str(file), "--sheet", "Returns", "--user", "admin")
    assert unknown.returncode == 1 and unknown.stderr.strip() == (
        "error: The workbook has no sheet Returns; its sheets are: 1 Cover, 2 Blank, 3 Orders, 4 Notes.")
    run = cli(path, "import", "orders", str(file), "--user", "admin", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["loaded"] == 6


def test_the_mapping_files_sheet_is_read_unless_sheet_says_otherwise(desk):
    path, folder = desk
    data = samples.workbook({"Orders": [["order_no", "sku"], ["A-1", "TOY-1"]],
                             "Customers": [["code", "name"], ["CUS-9", "Nine"]]})
    file, mapping_file = folder / "book.xlsx", folder / "customers.json"
    file.write_bytes(data)
    mapping = propose("customers", read_bytes("book.xlsx", data, sheet="Customers"))
    mapping.sheet = "Customers"
    mapping_file.write_text(mapping.to_json(), encoding="utf-8")
    other = cli(path, "import", "customers", str(file), "--mapping", str(mapping_file), "--sheet", "1", "--user", "admin")
    assert other.returncode == 1 and other.stderr.strip() == (
        "error: The sheet Orders has no column code, name, which the mapping uses. Its columns are: order_no, sku.")
    run = cli(path, "import", "customers", str(file), "--mapping", str(mapping_file), "--user", "admin", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["counts"] == {"customers": 1}


def test_a_sheet_for_a_csv_file_is_refused(desk):
    path, folder = desk
    run = cli(path, "import", "orders", str(day_first_csv(folder)), "--sheet", "1", "--user", "admin")
    assert run.returncode == 1 and run.stderr.strip() == (
        "error: Only Excel workbooks have sheets; day-first.csv is not one.")


def test_date_order_flag_reads_ambiguous_dates_and_a_bad_value_is_refused(desk):
    path, folder = desk
    file = day_first_csv(folder)
    refused = cli(path, "import", "orders", str(file), "--user", "admin", "--json")
    assert refused.returncode == 1 and json.loads(refused.stdout)["rejected"] == 6
    assert "could be day/month or month/day" in (folder / "day-first.csv.rejects.csv").read_text(encoding="utf-8-sig")
    bad = cli(path, "import", "orders", str(file), "--date-order", "sideways", "--user", "admin")
    assert bad.returncode == 1 and bad.stderr.strip() == (
        "error: Unknown date order sideways; choose one of: auto, day_first, month_first.")
    run = cli(path, "import", "orders", str(file), "--date-order", "day_first", "--user", "admin", "--json")
    assert run.returncode == 0, run.stderr
    assert created(path)["IMP-1001"] == "2026-03-05 09:15"


def test_the_mapping_files_date_order_applies_and_the_flag_wins(desk):
    path, folder = desk
    file = day_first_csv(folder)
    mapping = propose("orders", read_bytes(file.name, file.read_bytes()))
    mapping.date_order = "month_first"
    mapping_file = folder / "mapping.json"
    mapping_file.write_text(mapping.to_json(), encoding="utf-8")
    check = cli(path, "import", "orders", str(file), "--mapping", str(mapping_file), "--dry-run", "--user", "admin")
    assert check.returncode == 0, check.stderr   # read month first: 05/03 is the 3rd of May, a valid date
    run = cli(path, "import", "orders", str(file), "--mapping", str(mapping_file), "--date-order", "day_first",
              "--user", "admin")
    assert run.returncode == 0, run.stderr
    assert created(path)["IMP-1005"] == "2026-03-08 10:45"


def test_a_file_with_both_orders_is_one_line_naming_one_of_each(desk):
    path, folder = desk
    file = folder / "mixed.csv"
    file.write_bytes(samples.orders_csv(["M-1,CUS-1,25/03/2026,pending,SH,TOY-1,1,",
                                         "M-2,CUS-1,03/26/2026,pending,SH,TOY-1,1,"]))
    run = cli(path, "import", "orders", str(file), "--user", "admin", "--json")   # --json: no progress lines
    assert run.returncode == 1 and len(run.stderr.splitlines()) == 1 and not run.stdout
    assert run.stderr.startswith("error: The dates mix day first (25/03/2026, row 2) and month first (03/26/2026, row 3)")


@pytest.fixture
def shanghai(monkeypatch):
    """This process's local time zone is Asia/Shanghai during the test (the CLI runs in it), the machine's after."""
    with monkeypatch.context() as zone:
        zone.setenv("TZ", "Asia/Shanghai")
        time.tzset()
        yield
    time.tzset()


def test_offsets_are_stored_in_the_local_time_of_the_process(desk, shanghai):
    path, folder = desk
    file = folder / "offsets.csv"
    file.write_bytes(samples.orders_csv(["O-1,CUS-1,2026-03-05T20:30:00Z,completed,SH,TOY-1,1,",
                                         "O-2,CUS-1,2026-03-05T02:30:00+08:00,completed,SH,TOY-1,1,",
                                         "O-3,CUS-1,2026-03-05 14:30,completed,SH,TOY-1,1,"]))
    run = cli(path, "import", "orders", str(file), "--user", "admin")
    assert run.returncode == 0, run.stderr
    assert created(path) == {"O-1": "2026-03-06 04:30", "O-2": "2026-03-05 02:30", "O-3": "2026-03-05 14:30"}
