"""Sample import files, made in the tests: one small order set (for the `shop` fixture's catalogue) written as UTF-8
CSV, GBK CSV with Chinese headers, Excel (with a formula cell and an Excel serial date) and typed Parquet."""
import io
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq

EN_HEADERS = ["order_no", "customer_code", "created_at", "status", "warehouse", "sku", "qty", "unit_price"]
ZH_HEADERS = ["订单编号", "客户编码", "下单时间", "订单状态", "仓库", "商品编码", "数量", "单价"]
# order number, customer, created, status (English, Chinese), warehouse (code, Chinese name), sku, qty, price
ORDERS = [
    ("IMP-1001", "CUS-1", datetime(2026, 3, 5, 9, 15), "pending", "待处理", "SH", "上海仓", "PHN-1", 2, 2999.00),
    ("IMP-1001", "CUS-1", datetime(2026, 3, 5, 9, 15), "pending", "待处理", "SH", "上海仓", "TOY-1", 3, 99.50),
    ("IMP-1002", "CUS-2", datetime(2026, 3, 5, 14, 30), "cancelled", "已作废", "SH", "上海仓", "PHN-2", 1, 6500.00),
    ("IMP-1003", "CUS-2", datetime(2026, 3, 6), "shipped", "已发货", "SH", "上海仓", "TOY-1", 10, None),
    ("IMP-1004", "CUS-1", datetime(2026, 3, 7, 18, 0), "completed", "已完成", "GZ", "广州仓", "PHN-1", 1, 2899.00),
    ("IMP-1005", "CUS-1", datetime(2026, 3, 8, 10, 45), "processing", "处理中", "SH", "上海仓", "TOY-1", 5, 95.00),
]


def csv_text(rows, headers, cells) -> str:
    """CSV text: `cells(row)` gives one row's fields; fields with a comma or quote are quoted."""
    def field(value) -> str:
        text = "" if value is None else str(value)
        return f'"{text}"' if any(c in text for c in ',"\n') else text
    return "\n".join([",".join(headers)] + [",".join(field(v) for v in cells(r)) for r in rows]) + "\n"


def utf8_csv(rows=ORDERS) -> bytes:
    """English headers and statuses, ISO dates, warehouse codes; with a BOM, as Excel saves 'CSV UTF-8'."""
    text = csv_text(rows, EN_HEADERS, lambda r: (r[0], r[1], f"{r[2]:%Y-%m-%d %H:%M}", r[3], r[5], r[7], r[8],
                                                 "" if r[9] is None else f"{r[9]:.2f}"))
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def _zh_date(t: datetime) -> str:
    """2026/3/5 9:15 or 2026年3月6日 (midnight), as Chinese ERP exports write them."""
    return f"{t.year}年{t.month}月{t.day}日" if (t.hour, t.minute) == (0, 0) else f"{t:%Y}/{t.month}/{t.day} {t:%H:%M}"


def gbk_csv(rows=ORDERS) -> bytes:
    """Chinese headers, statuses and warehouse names, Chinese date forms; encoded GBK."""
    text = csv_text(rows, ZH_HEADERS, lambda r: (r[0], r[1], _zh_date(r[2]), r[4], r[6], r[7], r[8],
                                                 "" if r[9] is None else r[9]))
    return text.encode("gbk")


def excel(rows=ORDERS) -> bytes:
    """Chinese headers; dates as date cells, except one as a bare Excel serial number; one price as a formula
    whose stored value is what must be read."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("订单")
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, ZH_HEADERS)
    for i, r in enumerate(rows, start=1):
        sheet.write_row(i, 0, [r[0], r[1]])
        if i == 3:   # an Excel serial date, as a number cell without a date format
            sheet.write_number(i, 2, (r[2] - datetime(1899, 12, 30)).total_seconds() / 86400)
        else:
            sheet.write_datetime(i, 2, r[2], stamp)
        sheet.write_row(i, 3, [r[4], r[5], r[7], r[8]])
        if r[9] is None:
            continue
        if i == 1:
            sheet.write_formula(i, 7, "=1000+1999", None, r[9])
        else:
            sheet.write_number(i, 7, r[9])
    book.close()
    return out.getvalue()


def parquet(rows=ORDERS) -> bytes:
    """English headers, typed columns: timestamps, integers, doubles (a missing price is null)."""
    table = pa.table({
        "order_no": [r[0] for r in rows], "customer_code": [r[1] for r in rows],
        "created_at": pa.array([r[2] for r in rows], pa.timestamp("us")), "status": [r[3] for r in rows],
        "warehouse": [r[5] for r in rows], "sku": [r[7] for r in rows], "qty": pa.array([r[8] for r in rows], pa.int32()),
        "unit_price": pa.array([r[9] for r in rows], pa.float64())})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def orders_csv(lines: list[str], headers=EN_HEADERS) -> bytes:
    """A small UTF-8 CSV from literal lines (each 'a,b,c'), under the given headers."""
    return ("\n".join([",".join(headers)] + lines) + "\n").encode("utf-8")


def dated_csv(render, rows=ORDERS) -> bytes:
    """The sample orders as UTF-8 CSV (English headers and statuses) with each date written by `render(datetime)`."""
    return csv_text(rows, EN_HEADERS, lambda r: (r[0], r[1], render(r[2]), r[3], r[5], r[7], r[8],
                                                 "" if r[9] is None else f"{r[9]:.2f}")).encode("utf-8")


def workbook(sheets: dict[str, list[list]]) -> bytes:
    """An Excel workbook with the given sheets (name -> rows, the first row the header; [] for an empty sheet)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, row)
    book.close()
    return out.getvalue()
