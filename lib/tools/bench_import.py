"""The import figures of `bench` (issue #15): an ERP-shaped export loaded through the command line, as a nightly
job loads it, from Parquet and from CSV, each in a process of its own (its peak memory is its own).

The export is made here, by DuckDB, the same every time (seeded): its own column names (单据编号, 物料编码, …), its
own status words, four lines per order with the header repeated, the same SKU on two lines of one order in one
order of 500, no warehouse column (a fixed value in the mapping), the ERP's total with tax kept, and a title row
above the header in the CSV. The database it goes into holds the customers, products and stock the orders name.
Then the same file again with `--mode upsert`: every order unchanged.
"""
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from lib.db import Database, apply_migrations, sql_string

LINES_PER_ORDER = 4
PRODUCTS = 20_000
BENCH_USER = "bench_import"
MAPPING = {
    "kind": "orders",
    "columns": {"order_no": "单据编号", "customer_code": "客户编号", "created_at": "单据日期", "status": "单据状态",
                "sku": "物料编码", "qty": "数量", "unit_price": "无税单价", "line_no": "行号", "total": "价税合计",
                "amount_paid": "已收款"},
    "values": {"status": {"待审核": "pending", "已审核": "processing", "已发货": "shipped", "已完成": "completed",
                          "已取消": "voided"}},
    "constants": {"warehouse": "SH"},
    "totals": "keep",
}
_STATUS = "['已完成', '已完成', '已完成', '已完成', '已发货', '已审核', '待审核', '已取消'][1 + CAST(hash(i, 'st') % 8 AS BIGINT)]"


def make_files(folder: Path, lines: int) -> dict[str, Path]:
    """orders.parquet, orders.csv (a title row above the header) and mapping.json for `lines` order lines, made
    once per size in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"parquet": folder / f"erp-{lines}.parquet", "csv": folder / f"erp-{lines}.csv",
             "mapping": folder / "mapping.json"}
    if not all(p.exists() for p in files.values()):
        orders = -(-lines // LINES_PER_ORDER)
        customers = max(100, orders // 10)
        db = Database(":memory:")
        with db.read() as cur:
            cur.execute(f"""CREATE TABLE o AS SELECT i, 'ERP' || lpad(i::VARCHAR, 9, '0') AS no,
                'K' || lpad((hash(i, 'c') % {customers})::VARCHAR, 7, '0') AS customer,
                TIMESTAMP '2025-01-01' + to_seconds(i * 20 + CAST(hash(i, 't') % 20 AS BIGINT)) AS created,
                {_STATUS} AS status FROM range({orders}) t(i)""")
            # the same SKU on lines 1 and 2 of one order in 500 (another price: a gift or a second price)
            cur.execute(f"""CREATE TABLE l AS SELECT o.*, r.l + 1 AS line_no,
                'M' || lpad((CASE WHEN r.l = 1 AND o.i % 500 = 0 THEN hash(o.i, 0) ELSE hash(o.i, r.l) END
                              % {PRODUCTS})::VARCHAR, 6, '0') AS sku,
                CAST(1 + hash(o.i, r.l, 'q') % 4 AS INTEGER) AS qty, round(5 + (hash(o.i, r.l, 'p') % 50000) / 100.0, 2) AS price
                FROM o JOIN range({LINES_PER_ORDER}) r(l) ON o.i * {LINES_PER_ORDER} + r.l < {lines}""")
            cur.execute("""CREATE TABLE f AS SELECT l.*,
                round(sum(qty * price) OVER (PARTITION BY i) * 1.13, 2) AS total,
                CASE WHEN status IN ('已完成', '已发货') THEN round(sum(qty * price) OVER (PARTITION BY i) * 1.13, 2)
                     ELSE 0 END AS paid FROM l""")
            select = """SELECT no AS 单据编号, customer AS 客户编号, strftime(created, '%Y-%m-%d %H:%M:%S') AS 单据日期,
                status AS 单据状态, line_no AS 行号, sku AS 物料编码, qty AS 数量, price AS 无税单价,
                total AS 价税合计, paid AS 已收款 FROM f ORDER BY i, line_no"""
            cur.execute(f"COPY ({select}) TO {sql_string(str(files['parquet']))} (FORMAT parquet)")
            body = folder / "body.csv"
            cur.execute(f"COPY ({select}) TO {sql_string(str(body))} (FORMAT csv, HEADER)")
        db.close()
        with open(files["csv"], "wb") as out, open(body, "rb") as data:
            out.write("销售订单导出 2026-03-09,,,\n".encode())
            while chunk := data.read(16 << 20):
                out.write(chunk)
        body.unlink()
        files["mapping"].write_text(json.dumps({**MAPPING, "skip_rows": None}, ensure_ascii=False))
    return files


def make_database(path: Path, lines: int) -> None:
    """A fresh database with what the export names: warehouse SH, the customers and products, plenty of stock."""
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    orders = -(-lines // LINES_PER_ORDER)
    db = Database(str(path))
    apply_migrations(db)
    with db.transaction() as cur:
        cur.execute("INSERT INTO warehouses VALUES ('SH', 'Shanghai', '上海仓')")
        cur.execute("INSERT INTO categories VALUES ('parts', 'Parts', '配件', 1)")
        cur.execute(f"""INSERT INTO products SELECT 'M' || lpad(i::VARCHAR, 6, '0'), '物料 ' || i, 'parts',
            5 + i % 500, TRUE FROM range({PRODUCTS}) t(i)""")
        cur.execute(f"""INSERT INTO customers (code, name, created_at) SELECT 'K' || lpad(i::VARCHAR, 7, '0'),
            '客户 ' || i, TIMESTAMP '2024-01-01' FROM range({max(100, orders // 10)}) t(i)""")
        cur.execute("""INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_on_hand, ref_type)
            SELECT TIMESTAMP '2024-01-01', 'SH', sku, 'receipt', 100000000, 'receipt' FROM products""")
        cur.execute("""INSERT INTO stock_balances (warehouse, sku, on_hand, updated_at)
            SELECT warehouse, sku, sum(d_on_hand), TIMESTAMP '2024-01-01' FROM stock_ledger GROUP BY ALL""")
        cur.execute("INSERT INTO users (username, display_name, role, password_hash, created_at)"
                    " VALUES (?, 'Bench import', 'ops_lead', '!', TIMESTAMP '2024-01-01')", [BENCH_USER])
    db.close()


def import_figures(folder: Path, lines: int, say) -> dict:
    """Lines per second and peak memory of each load, and of an upsert of the same file."""
    say(f"import: an ERP export of {lines:,} lines")
    files = make_files(folder, lines)
    out: dict = {"import_lines": lines, "import_file_mb": {k: round(files[k].stat().st_size / 2**20)
                                                             for k in ("parquet", "csv")}}
    database = folder / "import-bench.duckdb"
    for fmt in ("parquet", "csv"):
        say(f"import: orders from {fmt}")
        make_database(database, lines)
        run = _import(database, files[fmt], files["mapping"])
        out[f"import_{fmt}_lines_per_s"] = round(lines / run["seconds"])
        out[f"import_{fmt}_s"] = round(run["seconds"], 1)
        out[f"import_{fmt}_peak_mb"] = run["peak_mb"]
    say("import: the same file again, --mode upsert")
    run = _import(database, files["csv"], files["mapping"], "--mode", "upsert")
    out["import_upsert_s"] = round(run["seconds"], 1)
    out["import_upsert_peak_mb"] = run["peak_mb"]
    out["import_upsert_unchanged"] = run["result"]["outcome"]["unchanged"]
    out["import_peak_mb"] = max(out["import_parquet_peak_mb"], out["import_csv_peak_mb"], run["peak_mb"])
    for stale in folder.glob(database.name + "*"):
        stale.unlink()
    return out


def _import(database: Path, path: Path, mapping: Path, *extra: str) -> dict:
    argv = ["import", "orders", str(path), "--mapping", str(mapping), "--user", BENCH_USER, "--db", str(database),
            "--json", *extra]
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lib.tools.bench_import", *argv], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"error: the bench's import failed: {done.stderr.strip()[-500:]}")
    *output, peak = done.stdout.strip().splitlines()
    result = json.loads(output[-1])
    if result["rejected"]:
        raise SystemExit(f"error: the bench's import rejected {result['rejected']} rows")
    return {"seconds": seconds, "peak_mb": json.loads(peak)["peak_mb"], "result": result}


if __name__ == "__main__":   # one import, then this process's own peak memory (the bench runs it as a child)
    from lib.cli import main

    code = main(sys.argv[1:])
    print(json.dumps({"peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), flush=True)
    sys.exit(code)
