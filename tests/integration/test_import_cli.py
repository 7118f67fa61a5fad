"""`python -m lib.cli import KIND FILE` (SPEC §11), run in-process on a database file."""
import json
from pathlib import Path

import pytest

from lib.imports import propose, read_bytes
from tests.integration import import_samples as samples
from tests.integration.cli_helpers import cli


@pytest.fixture
def desk(shop, tmp_path):
    """The shop's file, closed so that a test can open it read-only afterwards (DuckDB refuses two
    configurations of one file in a process), and a folder for import files."""
    shop.db.close()
    return shop.db.path, tmp_path


def test_import_prints_loaded_rejected_report_and_check_stays_ok(desk):
    path, folder = desk
    file = folder / "订单.csv"
    file.write_bytes(samples.gbk_csv())
    run = cli(path, "import", "orders", str(file), "--user", "ops_lead", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["loaded"], out["rejected"], out["report"]) == (6, 0, None)
    assert out["counts"]["orders"] == 5
    check = cli(path, "check", "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["ok"]


def test_rejected_rows_exit_1_with_one_line_and_a_report_file(desk):
    path, folder = desk
    file = folder / "bad.csv"
    file.write_bytes(samples.orders_csv(["B-1,CUS-1,2026-03-01,pending,SH,TOY-1,0,", "B-2,CUS-1,2026-03-01,pending,SH,TOY-1,1,"]))
    run = cli(path, "import", "orders", str(file), "--user", "admin", "--json")
    assert run.returncode == 1
    out = json.loads(run.stdout)
    assert (out["loaded"], out["rejected"]) == (0, 1)
    assert run.stderr.startswith("error: 1 of 2 rows rejected; nothing loaded") and len(run.stderr.splitlines()) == 1
    report = Path(out["report"]).read_bytes().decode("utf-8-sig").splitlines()
    assert report == ["Row,Field,Value,Reason", "2,Quantity,0,0 is not a quantity above zero"]
    assert Path(out["report"]).parent == folder


def test_the_saved_mapping_and_an_explicit_encoding_are_used(desk):
    path, folder = desk
    data = samples.gbk_csv().decode("gbk").replace("订单编号", "单据").encode("gbk")
    file, mapping_file = folder / "erp.csv", folder / "mapping.json"
    file.write_bytes(data)
    mapping = propose("orders", read_bytes("erp.csv", data))
    mapping.columns["order_no"] = "单据"
    mapping_file.write_text(mapping.to_json(), encoding="utf-8")
    refused = cli(path, "import", "orders", str(file), "--user", "admin")
    assert refused.returncode == 1 and refused.stderr.strip() == "error: Choose a column for Order number."
    run = cli(path, "import", "orders", str(file), "--mapping", str(mapping_file), "--encoding", "gbk",
              "--user", "admin", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["loaded"] == 6


def test_refusals_are_one_line(desk):
    path, folder = desk
    page = folder / "export.xls"
    page.write_bytes(b"<html><body><table><tr><td>1</td></tr></table></body></html>")
    cases = [(("import", "orders", str(page), "--user", "admin"), "web page (HTML)"),
             (("import", "orders", str(folder / "missing.csv"), "--user", "admin"), "Cannot read the file"),
             (("import", "stock", str(page), "--user", "ops"), "Only operations leads and administrators"),
             (("import", "orders", str(page), "--user", "admin", "--encoding", "ebcdic"), "Unknown encoding")]
    for args, words in cases:
        run = cli(path, *args)
        assert run.returncode == 1 and words in run.stderr and len(run.stderr.splitlines()) == 1, run.stderr


def test_dry_run_checks_and_loads_nothing(desk):
    path, folder = desk
    file = folder / "orders.parquet"
    file.write_bytes(samples.parquet())
    run = cli(path, "import", "orders", str(file), "--dry-run", "--user", "admin")
    assert run.returncode == 0 and "dry run" in run.stdout
    again = cli(path, "import", "orders", str(file), "--user", "admin", "--json")
    assert json.loads(again.stdout)["loaded"] == 6
