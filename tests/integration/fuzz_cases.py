"""Every text and number parameter of the write services, as fuzz cases grouped by service module: how to call the
service with one bad value (the rest valid), what it needs arranged first, and where accepted text is stored."""
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from lib.db import scalar
from lib.services import (catalog_admin, collab, inspection, orders, reasons, refunds, settings, stock_adjust, users,
                          voids)
from lib.services import returns as return_service
from lib.services.orders import LineInput
from tests.conftest import add_user
from tests.integration.access_support import order_for, pending_refund, requested_void, return_note, voided

_serial = itertools.count(1)


@dataclass(frozen=True)
class Case:
    name: str                          # service.parameter
    kind: str                          # text | number | code (see fuzz_values)
    call: Callable                     # (shop, arranged, value) -> result
    arrange: Callable = lambda shop: next(_serial)   # (shop) -> what the call needs; again after each accepted call
    stored: Callable | None = None     # (shop, arranged, result) -> accepted text as the database holds it
    keeps: bool = False                # what was arranged serves again after an accepted call


def one(shop, sql: str, params: list):
    with shop.db.read() as cur:
        return scalar(cur, sql, params)


def _u(shop, role: str):
    return shop.users[role]


def _pending(shop) -> str:
    return order_for(shop, _u(shop, "ops"))


def _shipped(shop, paid: bool = False) -> str:
    return order_for(shop, _u(shop, "ops"), "shipped", paid=paid)


def _order(shop, value=None, *, customer="CUS-1", warehouse="SH", sku="TOY-1", qty=1, price=None, rep="sales",
           note=None):
    return orders.create_order(shop.db, _u(shop, "ops"), customer, warehouse, [LineInput(sku, qty, price)], rep=rep,
                               note=note)


def _void_note(shop, order_no: str, column: str):
    return one(shop, f"SELECT {column} FROM voids WHERE order_no = ? ORDER BY id DESC LIMIT 1", [order_no])


def _return(shop, order_no, value=None, *, lines=None, reason="damaged", note=None, warehouse=None, refund=None):
    return return_service.create_return(shop.db, _u(shop, "ops"), order_no, lines or {"TOY-1": 1}, reason, note,
                                        warehouse=warehouse, refund=refund)


def _adjust(shop, value=None, *, warehouse="SH", sku="TOY-1", delta=1, reason="counted", quarantine=0):
    return stock_adjust.adjust_stock(shop.db, _u(shop, "ops_lead"), warehouse, sku, delta, reason,
                                     delta_quarantine=quarantine)


def _add_user(shop, n, *, username=None, role="ops", password="fuzz-password", display_name=None, email=None):
    return users.add_user(shop.db, _u(shop, "admin"), username or f"fz{n}", role, password,
                          display_name=display_name, email=email)


def _add_reason(shop, n, *, kind="void", code=None, label_en=None, label_zh=None):
    return reasons.add_reason(shop.db, _u(shop, "ops_lead"), kind, code or f"fz_{n}", label_en or f"Fuzz {n}",
                              label_zh or f"模糊 {n}")


def _update_other(shop, **changes):
    return reasons.update_reason(shop.db, _u(shop, "ops_lead"), "return", "other", **changes)


def _target(shop) -> str:
    name = f"target{next(_serial)}"
    add_user(shop.db, name, "ops")
    return name


GROUPS: dict[str, tuple[Case, ...]] = {
    "orders": (
        Case("create_order.customer", "code", lambda s, _, v: _order(s, customer=v)),
        Case("create_order.warehouse", "code", lambda s, _, v: _order(s, warehouse=v)),
        Case("create_order.sku", "code", lambda s, _, v: _order(s, sku=v)),
        Case("create_order.qty", "number", lambda s, _, v: _order(s, qty=v)),
        Case("create_order.unit_price", "number", lambda s, _, v: _order(s, price=v)),
        Case("create_order.rep", "code", lambda s, _, v: _order(s, rep=v)),
        Case("create_order.note", "text", lambda s, _, v: _order(s, note=v),
             stored=lambda s, _, r: one(s, "SELECT note FROM order_status_history WHERE order_id = ?", [r["id"]])),
        Case("change_status.to_status", "code", lambda s, n, v: orders.change_status(s.db, _u(s, "ops"), n, v),
             _pending),
        Case("change_status.note", "text",
             lambda s, n, v: orders.change_status(s.db, _u(s, "ops"), n, "processing", note=v), _pending,
             lambda s, n, _: one(s, "SELECT h.note FROM order_status_history h JOIN orders o ON o.id = h.order_id"
                                    " WHERE o.order_no = ? AND h.to_status = 'processing'", [n])),
    ),
    "voids": (
        Case("void_order.order_no", "text", lambda s, _, v: voids.void_order(s.db, _u(s, "ops"), v,
                                                                             "customer_cancelled")),
        Case("void_order.reason", "code", lambda s, n, v: voids.void_order(s.db, _u(s, "ops"), n, v), _pending),
        Case("void_order.note", "text",
             lambda s, n, v: voids.void_order(s.db, _u(s, "ops"), n, "customer_cancelled", v), _pending,
             lambda s, n, _: _void_note(s, n, "note")),
        Case("void_batch.order_nos", "text", lambda s, _, v: voids.void_batch(s.db, _u(s, "ops"), [v],
                                                                              "customer_cancelled")),
        Case("approve.note", "text", lambda s, n, v: voids.approve(s.db, _u(s, "ops_lead"), n, v),
             lambda s: requested_void(s, None), lambda s, n, _: _void_note(s, n, "decision_note")),
        Case("reject.note", "text", lambda s, n, v: voids.reject(s.db, _u(s, "ops_lead"), n, v),
             lambda s: requested_void(s, None), lambda s, n, _: _void_note(s, n, "decision_note")),
        Case("restore.note", "text", lambda s, n, v: voids.restore(s.db, _u(s, "ops_lead"), n, v),
             lambda s: voided(s, _u(s, "ops")), lambda s, n, _: _void_note(s, n, "restore_note")),
    ),
    "returns": (
        Case("create_return.sku", "code", lambda s, n, v: _return(s, n, lines={v: 1}), _shipped),
        Case("create_return.qty", "number", lambda s, n, v: _return(s, n, lines={"TOY-1": v}), _shipped),
        Case("create_return.refund", "number", lambda s, n, v: _return(s, n, refund=v),
             lambda s: _shipped(s, paid=True)),
        Case("create_return.reason", "code", lambda s, n, v: _return(s, n, reason=v), _shipped),
        Case("create_return.warehouse", "code", lambda s, n, v: _return(s, n, warehouse=v), _shipped),
        Case("create_return.note", "text", lambda s, n, v: _return(s, n, note=v), _shipped,
             lambda s, _, r: one(s, "SELECT note FROM return_notes WHERE return_no = ?", [r["return_no"]])),
        Case("inspect_return.disposition", "code", lambda s, rn, v: inspection.inspect_return(
            s.db, _u(s, "warehouse"), rn, {"TOY-1": v}, receive=True), lambda s: return_note(s, _u(s, "ops"))),
        Case("receive_return.return_no", "text", lambda s, _, v: inspection.receive_return(s.db, _u(s, "warehouse"),
                                                                                            v)),
    ),
    "refunds": (
        Case("mark_paid.payment_ref", "text", lambda s, rid, v: refunds.mark_paid(s.db, _u(s, "finance"), rid, v),
             lambda s: pending_refund(s, _u(s, "ops")),
             lambda s, rid, _: one(s, "SELECT payment_ref FROM refunds WHERE id = ?", [rid])),
        Case("mark_paid.refund_id", "number", lambda s, _, v: refunds.mark_paid(s.db, _u(s, "finance"), v, "PAY-1")),
    ),
    "stock": (
        Case("adjust_stock.delta", "number", lambda s, _, v: _adjust(s, delta=v), keeps=True),
        Case("adjust_stock.delta_quarantine", "number", lambda s, _, v: _adjust(s, quarantine=v), keeps=True),
        Case("adjust_stock.warehouse", "code", lambda s, _, v: _adjust(s, warehouse=v), keeps=True),
        Case("adjust_stock.sku", "code", lambda s, _, v: _adjust(s, sku=v), keeps=True),
        Case("adjust_stock.reason", "text", lambda s, _, v: _adjust(s, reason=v), keeps=True,
             stored=lambda s, *_: one(s, "SELECT note FROM stock_ledger WHERE kind = 'adjust' ORDER BY id DESC"
                                         " LIMIT 1", [])),
    ),
    "collab": (
        Case("add_comment.body", "text", lambda s, n, v: collab.add_comment(s.db, _u(s, "ops"), n, v), _pending,
             lambda s, _, r: one(s, "SELECT body FROM comments WHERE id = ?", [r["comment_id"]]), keeps=True),
        Case("assign.assignee", "code", lambda s, n, v: collab.assign(s.db, _u(s, "ops"), n, v), _pending),
        Case("assign.note", "text", lambda s, n, v: collab.assign(s.db, _u(s, "ops"), n, "warehouse", note=v),
             _pending, lambda s, n, _: one(s, "SELECT a.note FROM assignments a JOIN orders o ON o.id = a.order_id"
                                              " WHERE o.order_no = ?", [n])),
    ),
    "users": (
        Case("add_user.username", "text", lambda s, n, v: _add_user(s, n, username=v)),
        Case("add_user.role", "code", lambda s, n, v: _add_user(s, n, role=v)),
        Case("add_user.password", "text", lambda s, n, v: _add_user(s, n, password=v)),
        Case("add_user.display_name", "text", lambda s, n, v: _add_user(s, n, display_name=v),
             stored=lambda s, _, r: one(s, "SELECT display_name FROM users WHERE id = ?", [r["id"]])),
        Case("add_user.email", "text", lambda s, n, v: _add_user(s, n, email=v),
             stored=lambda s, _, r: one(s, "SELECT email FROM users WHERE id = ?", [r["id"]])),
        Case("set_role.role", "code", lambda s, name, v: users.set_role(s.db, _u(s, "admin"), name, v), _target),
        Case("set_role.username", "text", lambda s, _, v: users.set_role(s.db, _u(s, "admin"), v, "finance")),
        Case("set_email.email", "text", lambda s, name, v: users.set_email(s.db, _u(s, "admin"), name, v), _target,
             lambda s, name, _: one(s, "SELECT email FROM users WHERE username = ?", [name])),
    ),
    "reasons": (
        Case("add_reason.kind", "code", lambda s, n, v: _add_reason(s, n, kind=v)),
        Case("add_reason.code", "text", lambda s, n, v: _add_reason(s, n, code=v)),
        Case("add_reason.label_en", "text", lambda s, n, v: _add_reason(s, n, label_en=v),
             stored=lambda s, n, _: one(s, "SELECT label_en FROM reasons WHERE code = ?", [f"fz_{n}"])),
        Case("add_reason.label_zh", "text", lambda s, n, v: _add_reason(s, n, label_zh=v),
             stored=lambda s, n, _: one(s, "SELECT label_zh FROM reasons WHERE code = ?", [f"fz_{n}"])),
        Case("update_reason.label_en", "text", lambda s, _, v: _update_other(s, label_en=v), keeps=True,
             stored=lambda s, *_: one(s, "SELECT label_en FROM reasons WHERE kind = 'return' AND code = 'other'", [])),
        Case("update_reason.sort_order", "number", lambda s, _, v: _update_other(s, sort_order=v), keeps=True),
        Case("update_reason.note_required", "number", lambda s, _, v: _update_other(s, note_required=v), keeps=True),
        Case("update_reason.active", "number", lambda s, _, v: _update_other(s, active=v), keeps=True),
        Case("move_reason.step", "number",
             lambda s, _, v: reasons.move_reason(s.db, _u(s, "ops_lead"), "void", "other", v), keeps=True),
    ),
    "catalog": (
        Case("add_warehouse.code", "code", lambda s, n, v: catalog_admin.add_warehouse(s.db, _u(s, "ops_lead"), v,
                                                                                      f"WH {n}", f"仓 {n}")),
        Case("add_warehouse.name_en", "text", lambda s, n, v: catalog_admin.add_warehouse(
            s.db, _u(s, "ops_lead"), f"W{n}", v, f"仓 {n}"),
             stored=lambda s, n, _: one(s, "SELECT name_en FROM warehouses WHERE code = ?", [f"W{n}"])),
        Case("add_category.name_zh", "text", lambda s, n, v: catalog_admin.add_category(
            s.db, _u(s, "ops_lead"), f"c_{n}", f"Category {n}", v),
             stored=lambda s, n, _: one(s, "SELECT name_zh FROM categories WHERE code = ?", [f"c_{n}"])),
        Case("rename_warehouse.name_zh", "text", lambda s, _, v: catalog_admin.rename_warehouse(
            s.db, _u(s, "ops_lead"), "GZ", "Guangzhou", v), keeps=True,
             stored=lambda s, *_: one(s, "SELECT name_zh FROM warehouses WHERE code = 'GZ'", [])),
        Case("rename_category.code", "code", lambda s, _, v: catalog_admin.rename_category(
            s.db, _u(s, "ops_lead"), v, "Renamed", "改名")),
        Case("move_category.step", "number",
             lambda s, _, v: catalog_admin.move_category(s.db, _u(s, "ops_lead"), "toys", v), keeps=True),
    ),
    "settings": tuple(
        Case(f"update_rules.{key}", "number",
             lambda s, _, v, key=key: settings.update_rules(s.db, _u(s, "ops_lead"), **{key: v}), keeps=True)
        for key in settings.RULE_KEYS),
}
