"""The notification inbox (mark read), the audit log's search and export, and the audit invariant of `check`."""
from datetime import timedelta

import pytest

from lib import clock
from lib.errors import PermissionDenied
from lib.queries.audit import export_audit_csv, search_audit
from lib.queries.check import run_checks
from lib.queries.notifications import inbox, message, unread_count
from lib.services import collab, returns
from lib.services.inbox import mark_all_read, mark_read
from lib.services.stock_adjust import adjust_stock
from tests.integration.returns_fixture import shipped_order


@pytest.fixture
def story(shop):
    """A shipped order with a return (rep `sales` and `warehouse` told) and a comment by ops."""
    order_no = shipped_order(shop)
    return_no = returns.create_return(shop.db, shop.users["ops"], order_no, {"PHN-1": 1}, "quality")["return_no"]
    collab.add_comment(shop.db, shop.users["ops"], order_no, "=1+1 <b>call</b> them")
    return order_no, return_no


def test_inbox_lists_own_notifications_newest_first_with_their_params(shop, story):
    order_no, return_no = story
    sales = shop.users["sales"]
    items = inbox(shop.db, sales)
    assert [i["kind"] for i in items] == ["order.commented", "return.created"]
    assert items[1]["params"] == {"order_no": order_no, "return_no": return_no, "reason": "quality"}
    assert (items[1]["order_no"], items[1]["return_no"], items[1]["read_at"]) == (order_no, return_no, None)
    assert message(items[1], "en") == f"Return {return_no} was created for order {order_no}"
    assert inbox(shop.db, shop.users["analyst"]) == []


def test_mark_read_touches_only_the_users_own_notifications(shop, story):
    sales, wh = shop.users["sales"], shop.users["warehouse"]
    mine, theirs = inbox(shop.db, sales)[0]["id"], inbox(shop.db, wh)[0]["id"]
    assert mark_read(shop.db, sales, [mine, theirs]) == 1
    assert mark_read(shop.db, sales, [mine]) == 0
    assert unread_count(shop.db, sales) == 1 and unread_count(shop.db, wh) == 1
    assert [i["id"] for i in inbox(shop.db, sales, unread_only=True)] != [mine]
    assert mark_all_read(shop.db, sales) == 1
    assert unread_count(shop.db, sales) == 0 and inbox(shop.db, sales, unread_only=True) == []
    assert all(i["read_at"] is not None for i in inbox(shop.db, sales))
    assert unread_count(shop.db, wh) == 1


def test_audit_search_filters_by_actor_action_entity_order_and_dates(shop, story):
    order_no, _ = story
    lead = shop.users["ops_lead"]
    adjust_stock(shop.db, lead, "SH", "TOY-1", 1, "count")
    total, page = search_audit(shop.db, lead)
    assert total == 7 and page["action"].iloc[0] == "stock.adjust"   # newest first
    assert search_audit(shop.db, lead, actor="OPS_LEAD")[1]["action"].tolist() == ["stock.adjust"]
    assert sorted(search_audit(shop.db, lead, action="return.")[1]["action"]) == ["return.create"]
    assert sorted(search_audit(shop.db, lead, action=["order.status", "refund.create"])[1]["action"]) == \
        ["order.status", "order.status", "refund.create"]
    assert search_audit(shop.db, lead, entity_type="comment")[0] == 1
    assert search_audit(shop.db, lead, order_no=order_no)[0] == 6
    assert search_audit(shop.db, lead, date_from=clock.today() + timedelta(days=1))[0] == 0
    assert search_audit(shop.db, lead, date_from=clock.today(), date_to=clock.today().isoformat())[0] == 7
    total, page = search_audit(shop.db, lead, limit=3, offset=5)
    assert total == 7 and len(page) == 2
    for role in ("ops", "finance", "analyst"):
        with pytest.raises(PermissionDenied):
            search_audit(shop.db, shop.users[role])


def test_audit_export_neutralises_formulas(shop, story):
    csv = export_audit_csv(shop.db, shop.users["admin"], action="order.comment").decode("utf-8-sig")
    header, row = csv.splitlines()[:2]
    assert header == "id,created_at,actor_name,action,entity_type,entity_id,order_no,before,after,note"
    assert "order.comment" in row and "=1+1" in row
    assert len(csv.splitlines()) == 2
    csv = export_audit_csv(shop.db, shop.users["admin"], entity_type="stock")
    assert csv.decode("utf-8-sig").splitlines()[1:] == []
    adjust_stock(shop.db, shop.users["admin"], "SH", "TOY-1", 1, "=HYPERLINK(\"http://x\")")
    row = export_audit_csv(shop.db, shop.users["admin"], entity_type="stock").decode("utf-8-sig").splitlines()[1]
    assert row.endswith(',"\'=HYPERLINK(""http://x"")"')


def test_check_finds_a_state_change_without_its_audit_entry(shop, story):
    assert run_checks(shop.db)["ok"]
    with shop.db.transaction() as cur:   # only a test may do this: the audit log is append-only
        cur.execute("DELETE FROM audit_log WHERE action IN ('return.create', 'order.status')")
    result = run_checks(shop.db)
    assert not result["ok"]
    problem = [p for p in result["problems"] if p["check"] == "state_changes_audited"][0]
    assert problem["count"] == 3
    assert any(e.startswith(f"return {story[1]}: no audit entry") for e in problem["examples"])
    assert any("shipped" in e for e in problem["examples"])
