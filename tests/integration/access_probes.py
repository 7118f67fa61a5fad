"""One probe per call that needs a permission: the real service or query, with otherwise valid arguments, for
every action of lib.domain.PERMISSIONS. tests/integration/test_access_matrix.py runs each for every role."""
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lib import clock
from lib.analytics import explain, explore, spikes
from lib.analytics import returns as return_stats
from lib.analytics import voids as void_stats
from lib.analytics.console import run_readonly, schema
from lib.analytics.filters import AnalyticsFilters
from lib.errors import NotFound
from lib.imports import check_import, propose, read_bytes, run_import
from lib.queries import audit, chat, export, refunds, stock
from lib.queries.notifications import outbox
from lib.queries.orders import get_order, timeline
from lib.queries.reasons import reason_catalogue
from lib.queries.returns import get_return, search_returns
from lib.queries.search import SearchFilters, search_orders
from lib.queries.voids import approvals_queue, preview_void
from lib.services import (catalog_admin, change_feed, chat_channels, collab, inspection, orders, reasons, returns,
                          settings, stock_adjust, users, voids)
from lib.services import spike_alerts
from lib.services.refunds import mark_paid
from lib.services.orders import LineInput
from tests.conftest import add_user
from tests.integration.access_support import (order_for, order_id, other_reps_order, pending_refund, rep_for,
                                              requested_void, return_note, voided)

_serial = itertools.count(1)


def _nothing(shop, user):
    return None


@dataclass(frozen=True)
class Probe:
    name: str                          # the function called, as module.function
    call: Callable                     # (shop, user, arranged) -> result
    arrange: Callable = _nothing       # (shop, user) -> what the call needs; made before the fingerprint is taken
    expect: str | None = None          # allowed roles: key of the documented refusal the call must end in here
    hidden: bool = False               # roles without the action get NotFound (hidden), not PermissionDenied
    refused_as: str | None = None      # the refusal names this action instead (the one the call checks for them)


def _number(shop, user) -> int:
    return next(_serial)


def _shipped(shop, user):
    return order_for(shop, user, "shipped")


def _filters() -> AnalyticsFilters:
    return AnalyticsFilters.from_params({}, clock.today())


def _found(shop, user, order_no: str):
    """Search hides what a role may not see: an empty result is its NotFound."""
    result = search_orders(shop.db, user, SearchFilters(number=order_no))
    if result.total == 0:
        raise NotFound("orders.not_found", order_no=order_no)
    return result


def _found_return(shop, user, return_no: str):
    total, _ = search_returns(shop.db, user, return_no=return_no)
    if total == 0:
        raise NotFound("returns.not_found", return_no=return_no)
    return total


def _other_reps_return(shop, user):
    return return_note(shop, shop.users["sales2"])


def _chat_channel(shop, user) -> tuple[int, int]:
    """A fresh team-chat channel (id, version), added by the admin; nothing is ever posted to it."""
    channel_id = chat_channels.add_channel(shop.db, shop.users["admin"], name=f"group {next(_serial)}",
                                           kind="webhook", webhook_url="http://127.0.0.1:9/hook", language="en",
                                           events=["void_requested"])
    return channel_id, 1


def _failed_delivery(shop, user) -> int:
    """A delivery that gave up, as the sender leaves one."""
    channel_id, _ = _chat_channel(shop, user)
    with shop.db.transaction() as cur:
        return cur.execute("INSERT INTO chat_deliveries (audit_id, channel_id, event, summary, payload, created_at,"
                           " status, next_at) VALUES (?, ?, 'void_requested', 'x', '{}', ?, 'failed', ?) RETURNING id",
                           [next(_serial), channel_id, clock.now(), clock.now()]).fetchall()[0][0]


def _account(shop, user, active: bool = True) -> str:
    """A fresh ops account for users.manage to work on."""
    name = f"target{next(_serial)}"
    add_user(shop.db, name, "ops", active=active)
    return name


def _customers_file(shop, user):
    source = read_bytes("customers.csv", f"code,name\nP-{next(_serial)},Probe customer\n".encode())
    return source, propose("customers", source)


def _analytics(name: str, call: Callable) -> Probe:
    return Probe(f"lib.analytics.{name}", lambda s, u, _: call(s.db, u, _filters()))


PROBES: dict[str, tuple[Probe, ...]] = {
    "order.view": (
        Probe("lib.queries.orders.get_order", lambda s, u, n: get_order(s.db, u, n), order_for),
        Probe("lib.queries.orders.timeline", lambda s, u, n: timeline(s.db, u, order_id(s, n)), order_for),
        Probe("lib.queries.voids.preview_void", lambda s, u, n: preview_void(s.db, u, n, "customer_cancelled"),
              order_for),
        Probe("lib.queries.search.search_orders", lambda s, u, _: search_orders(s.db, u)),
        Probe("lib.queries.export.export_csv", lambda s, u, _: export.export_csv(s.db, u)),
        Probe("lib.queries.export.export_excel", lambda s, u, _: export.export_excel(s.db, u)),
        Probe("lib.queries.returns.search_returns", lambda s, u, _: search_returns(s.db, u)),
        Probe("lib.queries.returns.get_return", lambda s, u, rn: get_return(s.db, u, rn), return_note),
        Probe("lib.services.returns.returnable_lines", lambda s, u, n: returns.returnable_lines(s.db, u, n), _shipped),
        Probe("lib.services.returns.return_context", lambda s, u, n: returns.return_context(s.db, u, n), _shipped),
    ),
    # A sales rep may look only at their own orders: someone else's is answered as if it did not exist.
    "order.view_all": (
        Probe("lib.queries.orders.get_order", lambda s, u, n: get_order(s.db, u, n), lambda s, u: other_reps_order(s),
              hidden=True),
        Probe("lib.queries.voids.preview_void", lambda s, u, n: preview_void(s.db, u, n),
              lambda s, u: other_reps_order(s), hidden=True),
        Probe("lib.queries.search.search_orders", _found, lambda s, u: other_reps_order(s), hidden=True),
        Probe("lib.queries.returns.get_return", lambda s, u, rn: get_return(s.db, u, rn), _other_reps_return,
              hidden=True),
        Probe("lib.queries.returns.search_returns", _found_return, _other_reps_return, hidden=True),
        Probe("lib.services.returns.return_context", lambda s, u, n: returns.return_context(s.db, u, n),
              lambda s, u: order_for(s, s.users["sales2"], "shipped"), hidden=True),
    ),
    "order.create": (
        Probe("lib.services.orders.create_order", lambda s, u, _: orders.create_order(
            s.db, u, "CUS-1", "SH", [LineInput("TOY-1", 1)], rep=None if u.role == "sales" else rep_for(u))),
        Probe("lib.services.orders.copy_order", lambda s, u, n: orders.copy_order(s.db, u, n), order_for),
    ),
    "order.change_status": (
        Probe("lib.services.orders.change_status", lambda s, u, n: orders.change_status(s.db, u, n, "processing"),
              order_for),
    ),
    "order.archive": (
        Probe("lib.services.orders.change_status", lambda s, u, n: orders.change_status(s.db, u, n, "archived"),
              lambda s, u: order_for(s, u, "completed")),
    ),
    "order.assign": (
        Probe("lib.services.collab.assign", lambda s, u, n: collab.assign(s.db, u, n, "warehouse"), order_for),
    ),
    "order.comment": (
        Probe("lib.services.collab.add_comment", lambda s, u, n: collab.add_comment(s.db, u, n, "probe"), order_for),
    ),
    "void.create": (
        Probe("lib.services.voids.void_order", lambda s, u, n: voids.void_order(s.db, u, n, "customer_cancelled"),
              order_for),
        Probe("lib.services.voids.void_batch", lambda s, u, n: voids.void_batch(s.db, u, [n], "customer_cancelled"),
              order_for),
    ),
    # Only sales reps ask instead of voiding; a role that may do neither is told who may void.
    "void.request": (
        Probe("lib.services.voids.void_order", lambda s, u, n: voids.void_order(s.db, u, n, "customer_cancelled"),
              order_for, refused_as="void.create"),
    ),
    "void.approve": (
        Probe("lib.services.voids.approve", lambda s, u, n: voids.approve(s.db, u, n), requested_void),
        Probe("lib.services.voids.reject", lambda s, u, n: voids.reject(s.db, u, n, "not now"), requested_void),
        Probe("lib.services.voids.decide_many",
              lambda s, u, n: voids.decide_many(s.db, u, [n], "approve"), requested_void),
        Probe("lib.services.voids.decide_many",
              lambda s, u, n: voids.decide_many(s.db, u, [n], "reject", "not now"), requested_void),
        Probe("lib.queries.voids.approvals_queue", lambda s, u, _: approvals_queue(s.db, u, "en")),
    ),
    "void.restore": (
        Probe("lib.services.voids.restore", lambda s, u, n: voids.restore(s.db, u, n, "undo"), voided),
    ),
    "return.create": (
        Probe("lib.services.returns.create_return",
              lambda s, u, n: returns.create_return(s.db, u, n, {"TOY-1": 1}, "damaged"), _shipped),
        Probe("lib.services.returns.preview_returns_batch",
              lambda s, u, n: returns.preview_returns_batch(s.db, u, [n]), _shipped),
        Probe("lib.services.returns.create_returns_batch",
              lambda s, u, n: returns.create_returns_batch(s.db, u, [n], "damaged"), _shipped),
    ),
    "return.inspect": (
        Probe("lib.services.inspection.receive_return", lambda s, u, rn: inspection.receive_return(s.db, u, rn),
              return_note),
        Probe("lib.services.inspection.inspect_return",
              lambda s, u, rn: inspection.inspect_return(s.db, u, rn, {"TOY-1": "restock"}, receive=True),
              return_note),
        # Closing by hand waits for the refund: the lead may try, and is told why not yet.
        Probe("lib.services.inspection.close_return", lambda s, u, rn: inspection.close_return(s.db, u, rn),
              lambda s, u: return_note(s, u, "inspected", paid=True), expect="returns.refund_outstanding"),
    ),
    "refund.view": (
        Probe("lib.queries.refunds.refund_queue", lambda s, u, _: refunds.refund_queue(s.db, u)),
        Probe("lib.queries.refunds.refund_totals_per_day", lambda s, u, _: refunds.refund_totals_per_day(s.db, u)),
    ),
    "refund.pay": (
        Probe("lib.services.refunds.mark_paid", lambda s, u, rid: mark_paid(s.db, u, rid, "PAY-1"), pending_refund),
    ),
    "stock.view": (
        Probe("lib.queries.stock.stock_levels", lambda s, u, _: stock.stock_levels(s.db, u)),
        Probe("lib.queries.stock.sku_ledger", lambda s, u, _: stock.sku_ledger(s.db, u, "TOY-1")),
    ),
    "stock.adjust": (
        Probe("lib.services.stock_adjust.adjust_stock",
              lambda s, u, _: stock_adjust.adjust_stock(s.db, u, "SH", "TOY-1", 1, "counted one more")),
    ),
    "analytics.view": (
        _analytics("voids.dashboard", void_stats.dashboard),
        _analytics("voids.kpis", void_stats.kpis),
        _analytics("voids.trend", lambda db, u, f: void_stats.trend(db, u, f, "week")),
        _analytics("voids.orders_by_period", lambda db, u, f: void_stats.orders_by_period(db, u, f, "week")),
        _analytics("voids.pareto", void_stats.pareto),
        _analytics("voids.rates_by", lambda db, u, f: void_stats.rates_by(db, u, f, "category")),
        _analytics("voids.heatmap", void_stats.heatmap),
        _analytics("voids.time_to_void", void_stats.time_to_void),
        _analytics("voids.time_to_void_median_hours", void_stats.time_to_void_median_hours),
        _analytics("voids.approval_turnaround", void_stats.approval_turnaround),
        _analytics("returns.returns_dashboard", return_stats.returns_dashboard),
        _analytics("returns.kpis", return_stats.kpis),
        _analytics("returns.trend", lambda db, u, f: return_stats.trend(db, u, f, "week")),
        _analytics("returns.rates_by", lambda db, u, f: return_stats.rates_by(db, u, f, "category")),
        _analytics("returns.shipped_by_period", lambda db, u, f: return_stats.shipped_by_period(db, u, f, "week")),
        _analytics("spikes.spikes", spikes.spikes),
        _analytics("explore.pivot", lambda db, u, f: explore.pivot(db, u, ["reason"], "voids", None, f)),
        _analytics("explain.explain_all", lambda db, u, f: explain.explain_all(
            db, u, "voids", (f.date_from, f.date_to), (f.date_from, f.date_to), measure="count")),
        Probe("lib.services.spike_alerts.alert_new_spikes",
              lambda s, u, _: spike_alerts.alert_new_spikes(s.db, u, _filters())),
    ),
    "sql.console": (
        Probe("lib.analytics.console.run_readonly",
              lambda s, u, _: run_readonly(s.db, u, "SELECT count(*) FROM orders")),
        Probe("lib.analytics.console.schema", lambda s, u, _: schema(s.db, u)),
    ),
    "reasons.edit": (
        Probe("lib.services.reasons.add_reason", lambda s, u, n: reasons.add_reason(
            s.db, u, "void", f"probe_{n}", f"Probe {n}", f"探针 {n}"), _number),
        Probe("lib.services.reasons.update_reason",
              lambda s, u, n: reasons.update_reason(s.db, u, "void", "other", sort_order=100 + n),
              _number),
        Probe("lib.services.reasons.move_reason", lambda s, u, _: reasons.move_reason(s.db, u, "void", "other", -1)),
        Probe("lib.queries.reasons.reason_catalogue", lambda s, u, _: reason_catalogue(s.db, u, "void")),
    ),
    "settings.edit": (
        Probe("lib.services.settings.update_rules",
              lambda s, u, n: settings.update_rules(s.db, u, low_stock_level=n), _number),
        Probe("lib.services.catalog_admin.list_warehouses", lambda s, u, _: catalog_admin.list_warehouses(s.db, u)),
        Probe("lib.services.catalog_admin.list_categories", lambda s, u, _: catalog_admin.list_categories(s.db, u)),
        Probe("lib.services.catalog_admin.add_warehouse", lambda s, u, n: catalog_admin.add_warehouse(
            s.db, u, f"W{n}", f"Probe warehouse {n}", f"探针仓 {n}"), _number),
        Probe("lib.services.catalog_admin.add_category", lambda s, u, n: catalog_admin.add_category(
            s.db, u, f"cat_{n}", f"Probe category {n}", f"探针类 {n}"), _number),
        Probe("lib.services.catalog_admin.rename_warehouse", lambda s, u, n: catalog_admin.rename_warehouse(
            s.db, u, "GZ", f"Guangzhou {n}", f"广州仓 {n}"), _number),
        Probe("lib.services.catalog_admin.rename_category", lambda s, u, n: catalog_admin.rename_category(
            s.db, u, "toys", f"Toys {n}", f"玩具 {n}"), _number),
        Probe("lib.services.catalog_admin.move_category",
              lambda s, u, _: catalog_admin.move_category(s.db, u, "toys", -1)),
    ),
    "audit.view": (
        Probe("lib.queries.audit.search_audit", lambda s, u, _: audit.search_audit(s.db, u)),
        Probe("lib.queries.audit.export_audit_csv", lambda s, u, _: audit.export_audit_csv(s.db, u)),
        Probe("lib.services.change_feed.export_changes",
              lambda s, u, _: change_feed.export_changes(s.db, u, datetime(2026, 1, 1))),
        Probe("lib.services.change_feed.marks", lambda s, u, _: change_feed.marks(s.db, u)),
    ),
    "users.manage": (
        Probe("lib.services.users.list_users", lambda s, u, _: users.list_users(s.db, u)),
        Probe("lib.services.users.add_user",
              lambda s, u, n: users.add_user(s.db, u, f"new{n}", "ops", "probe-password"), _number),
        Probe("lib.services.users.set_role", lambda s, u, name: users.set_role(s.db, u, name, "finance"), _account),
        Probe("lib.services.users.set_email", lambda s, u, name: users.set_email(s.db, u, name, f"{name}@example.com"),
              _account),
        Probe("lib.services.users.deactivate", lambda s, u, name: users.deactivate(s.db, u, name), _account),
        Probe("lib.services.users.reactivate", lambda s, u, name: users.reactivate(s.db, u, name),
              lambda s, u: _account(s, u, active=False)),
        Probe("lib.services.users.reset_password", lambda s, u, name: users.reset_password(s.db, u, name), _account),
        Probe("lib.queries.notifications.outbox", lambda s, u, _: outbox(s.db, u)),
    ),
    "chat.manage": (
        Probe("lib.services.chat_channels.add_channel", lambda s, u, n: chat_channels.add_channel(
            s.db, u, name=f"probe {n}", kind="wecom", webhook_url="https://qyapi.example/send?key=k", language="zh",
            events=["void_requested"]), _number),
        Probe("lib.services.chat_channels.update_channel", lambda s, u, c: chat_channels.update_channel(
            s.db, u, c[0], c[1], name="renamed", language="en", events=["spike_alert"]), _chat_channel),
        Probe("lib.services.chat_channels.set_active",
              lambda s, u, c: chat_channels.set_active(s.db, u, c[0], c[1], False), _chat_channel),
        Probe("lib.services.chat_channels.delete_channel",
              lambda s, u, c: chat_channels.delete_channel(s.db, u, c[0], c[1]), _chat_channel),
        Probe("lib.services.chat_channels.record_test",
              lambda s, u, c: chat_channels.record_test(s.db, u, c[0]), _chat_channel),
        Probe("lib.services.chat_channels.resend", lambda s, u, d: chat_channels.resend(s.db, u, d), _failed_delivery),
        Probe("lib.services.chat_channels.set_base_url",
              lambda s, u, n: chat_channels.set_base_url(s.db, u, f"https://voiddesk{n}.example"), _number),
        Probe("lib.queries.chat.channels", lambda s, u, _: chat.channels(s.db, u)),
        Probe("lib.queries.chat.deliveries", lambda s, u, _: chat.deliveries(s.db, u)),
        Probe("lib.queries.chat.delivery_status", lambda s, u, _: chat.delivery_status(s.db, u, 1)),
    ),
    "import.run": (
        Probe("lib.imports.run.run_import", lambda s, u, f: run_import(s.db, u, *f), _customers_file),
        Probe("lib.imports.run.check_import", lambda s, u, f: check_import(s.db, u, *f), _customers_file),
    ),
}

# Guarded functions reached through a public one (private, or taking a cursor): name -> the probe that reaches it.
REACHED_VIA = {
    "lib.analytics._base.prepare": "lib.analytics.voids.kpis",
    "lib.imports.run._start": "lib.imports.run.run_import",
    "lib.services.catalog_admin._add": "lib.services.catalog_admin.add_warehouse",
    "lib.services.catalog_admin._rename": "lib.services.catalog_admin.rename_warehouse",
    "lib.queries.export._chunks": "lib.queries.export.export_csv",
    "lib.queries.orders.visible_header": "lib.queries.orders.get_order",
}
