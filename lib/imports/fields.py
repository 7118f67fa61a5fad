"""What each import kind loads: its fields, their types, and the source headers and values they are known by."""
import re
from dataclasses import dataclass

KINDS = ("orders", "lines", "customers", "products", "stock")
# Statuses an imported order may have (archived orders are not imported) and payment states it may start in.
IMPORT_STATUSES = ("pending", "processing", "shipped", "completed", "voided")
IMPORT_PAYMENTS = ("unpaid", "paid")


@dataclass(frozen=True)
class Field:
    name: str                      # also the staging column name: fixed words, never from input
    type: str                      # text | code | int | qty | count | money | datetime | status | payment
    required: bool = False
    aliases: tuple[str, ...] = ()  # headers this field is proposed for (compared normalised, see norm())


_ORDER_NO = ("order_no", "order number", "order id", "order", "so number", "订单编号", "订单号", "单号", "订单号码",
             "销售单号", "单据编号")
_CUSTOMER_CODE = ("customer_code", "customer code", "customer id", "customer no", "客户编码", "客户编号", "客户代码",
                  "客户id")
_CUSTOMER_NAME = ("customer_name", "customer name", "customer", "客户名称", "客户", "客户名", "客户全称")
_SKU = ("sku", "sku code", "product code", "item code", "product", "商品编码", "产品编码", "货号", "物料编码",
        "商品编号", "sku编码")
_QTY = ("qty", "quantity", "数量", "订购数量", "销售数量")
_PRICE = ("unit_price", "unit price", "price", "单价", "价格", "销售单价")
_WAREHOUSE = ("warehouse", "warehouse code", "仓库", "发货仓", "发货仓库", "仓库编码", "仓库名称")
_LINE_NO = ("line_no", "line", "line number", "行号", "序号")

FIELDS: dict[str, tuple[Field, ...]] = {
    "orders": (
        Field("order_no", "text", True, _ORDER_NO),
        Field("customer_code", "text", False, _CUSTOMER_CODE),
        Field("customer_name", "text", False, _CUSTOMER_NAME),
        Field("created_at", "datetime", True, ("created_at", "order date", "order time", "created", "date",
                                                "下单时间", "下单日期", "订单日期", "创建时间", "日期")),
        Field("status", "status", True, ("status", "order status", "订单状态", "状态")),
        Field("warehouse", "text", True, _WAREHOUSE),
        Field("sku", "code", False, _SKU),
        Field("qty", "qty", False, _QTY),
        Field("unit_price", "money", False, _PRICE),
        Field("line_no", "int", False, _LINE_NO),
        # Not "金额" or "amount": in line-per-row exports that is usually the line's amount.
        Field("total", "money", False, ("total", "order total", "订单金额", "订单总额", "总金额", "合计")),
        Field("payment_status", "payment", False, ("payment", "payment status", "payment_status", "付款状态",
                                                   "支付状态")),
        Field("amount_paid", "money", False, ("amount_paid", "amount paid", "paid", "已付金额", "实付金额",
                                              "付款金额", "已付款金额")),
        Field("rep", "text", False, ("rep", "sales rep", "salesperson", "业务员", "销售", "销售员", "销售代表")),
        Field("voided_at", "datetime", False, ("voided_at", "void date", "voided", "cancelled at", "作废时间",
                                               "取消时间", "作废日期")),
    ),
    "lines": (
        Field("order_no", "text", True, _ORDER_NO),
        Field("sku", "code", True, _SKU),
        Field("qty", "qty", True, _QTY),
        Field("unit_price", "money", False, _PRICE),
        Field("line_no", "int", False, _LINE_NO),
    ),
    "customers": (
        Field("customer_code", "text", True, _CUSTOMER_CODE + ("code", "编码", "编号")),
        Field("customer_name", "text", True, _CUSTOMER_NAME + ("name", "名称")),
        Field("city", "text", False, ("city", "城市", "所在城市")),
        Field("phone", "text", False, ("phone", "telephone", "tel", "mobile", "电话", "联系电话", "手机")),
    ),
    "products": (
        Field("sku", "code", True, _SKU + ("code",)),
        Field("product_name", "text", True, ("product_name", "name", "product name", "item name", "商品名称", "品名",
                                              "产品名称", "名称")),
        Field("category", "text", True, ("category", "category code", "类别", "分类", "品类", "商品分类", "类目")),
        Field("unit_price", "money", True, _PRICE + ("list price", "售价", "零售价")),
    ),
    "stock": (
        Field("warehouse", "text", True, _WAREHOUSE),
        Field("sku", "code", True, _SKU),
        Field("qty", "count", True, _QTY + ("on hand", "on_hand", "stock", "库存", "库存数量", "在库数量")),
        Field("quarantine", "count", False, ("quarantine", "隔离", "隔离数量", "待检数量")),
    ),
}

# Source values proposed for each VoidDesk status and payment state (compared normalised); the catalogue labels
# in both languages are added by lib.imports.mapping.
STATUS_WORDS = {
    "pending": ("pending", "new", "open", "待处理", "待审核", "待确认", "新建", "未处理", "待付款"),
    "processing": ("processing", "in progress", "confirmed", "处理中", "待发货", "已确认", "已审核", "备货中",
                   "配货中"),
    "shipped": ("shipped", "dispatched", "sent", "已发货", "发货", "运输中", "已出库"),
    "completed": ("completed", "complete", "done", "delivered", "closed", "已完成", "完成", "已签收", "已收货",
                  "交易成功"),
    "voided": ("voided", "void", "cancelled", "canceled", "已作废", "作废", "已取消", "取消", "交易关闭"),
}
PAYMENT_WORDS = {
    "paid": ("paid", "yes", "y", "true", "已付款", "已支付", "已付", "是"),
    "unpaid": ("unpaid", "no", "n", "false", "未付款", "未支付", "未付", "否"),
}
VALUE_FIELDS = {"status": (IMPORT_STATUSES, STATUS_WORDS, "status"),
                "payment_status": (IMPORT_PAYMENTS, PAYMENT_WORDS, "payment")}

# Coded fields whose codes live in the database (warehouses, categories): a mapping's values for them turn the
# file's words into codes ({"上海一号库": "SH"}) before they are looked up by code or name as usual.
RECODED = ("warehouse", "category")
CODED = tuple(VALUE_FIELDS) + RECODED

_NOISE = re.compile(r"[\s_\-.:：()（）\[\]/#*]+")


# What each field takes (the mapping template: lib.imports.mapping.template).
ABOUT = {
    "order_no": "text; the order's number, unique in VoidDesk (an order already there is refused)",
    "customer_code": "text; a customer code already in VoidDesk (import customers first)",
    "customer_name": "text; a customer's name, when the file has no code (it must name one customer only)",
    "created_at": "date and time the order was placed (2026-03-05 14:30, 2026/3/5, 05/03/2026, Excel dates)",
    "status": "pending, processing, shipped, completed or voided, or the file's own words (see values)",
    "warehouse": "a warehouse code or name (SH, 上海仓), or the file's own words (see values); often a constant",
    "sku": "a product's SKU already in VoidDesk; one row per order line (one SKU may be on several lines)",
    "qty": "whole number above 0",
    "unit_price": "money; empty: the product's list price",
    "line_no": "whole number; the line's number in its order (empty: 1, 2, 3 … in file order)",
    "total": "money; the order's total (with tax, discount, freight); without lines it is the order's only amount",
    "payment_status": "paid or unpaid, or the file's own words (see values)",
    "amount_paid": "money; not above the order's total",
    "rep": "a sales rep's username or display name",
    "voided_at": "date and time a voided order was voided",
    "city": "text",
    "phone": "text",
    "product_name": "text",
    "category": "a category code or name (phones, 手机), or the file's own words (see values)",
    "quarantine": "whole number of units held for inspection",
}
# ... where a kind's field takes something else.
ABOUT_IN_KIND = {
    ("customers", "customer_code"): "text; the new customer's code (a code already in VoidDesk is refused)",
    ("customers", "customer_name"): "text; the customer's name",
    ("products", "sku"): "text; the new product's SKU (a SKU already in VoidDesk is refused)",
    ("products", "unit_price"): "money; the list price",
    ("lines", "order_no"): "text; an order already in VoidDesk that has no lines yet",
    ("stock", "qty"): "whole number of units received, 0 or more (added to on hand)",
    ("stock", "warehouse"): "a warehouse code or name (SH, 上海仓), or the file's own words (see values)",
}

# Field names of earlier mapping files, read as today's: one name for one concept across kinds (issue #15).
FORMER_NAMES = {"customers": {"code": "customer_code", "name": "customer_name"}, "products": {"name": "product_name"}}


def norm(text) -> str:
    """A header or value reduced for matching: lower case, no spaces, underscores or punctuation."""
    return _NOISE.sub("", str(text or "").strip().lower())


def fields(kind: str) -> tuple[Field, ...]:
    return FIELDS[kind]


def field(kind: str, name: str) -> Field:
    return next(f for f in FIELDS[kind] if f.name == name)
