import pytest

from lib.domain import PERMISSIONS, ROLES, User, can, may_see_order, order_visibility_sql, require
from lib.errors import PermissionDenied


def _user(role):
    return User(id=1, username=role, display_name=role, role=role)


def test_every_action_names_only_known_roles():
    for roles in PERMISSIONS.values():
        assert set(roles) <= set(ROLES)


def test_admin_may_do_everything():
    assert all(can(_user("admin"), action) for action in PERMISSIONS)


def test_refusal_says_who_may_do_it_in_both_languages():
    with pytest.raises(PermissionDenied) as info:
        require(_user("ops"), "void.approve")
    assert info.value.message("en") == "Only operations leads and administrators can approve or reject void requests."
    assert info.value.message("zh") == "只有运营主管、管理员可以审批作废申请。"


def test_analyst_is_read_only():
    writes = [a for a in PERMISSIONS if can(_user("analyst"), a)]
    assert sorted(writes) == ["analytics.view", "order.view", "order.view_all", "sql.console", "stock.view"]


def test_no_user_may_do_nothing():
    assert not can(None, "order.view")


def test_a_sales_rep_sees_only_their_own_orders_and_the_other_roles_see_all():
    for role in ROLES:
        user = _user(role)   # id 1
        if role == "sales":
            assert may_see_order(user, 1) and not may_see_order(user, 2) and not may_see_order(user, None)
            assert order_visibility_sql(user) == ("o.rep_id = ?", [1])
        else:
            assert may_see_order(user, 2) and may_see_order(user, None)
            assert order_visibility_sql(user) == ("TRUE", [])
    assert order_visibility_sql(_user("sales"), alias="") == ("rep_id = ?", [1])
    assert not may_see_order(None, 1) and order_visibility_sql(None) == ("FALSE", [])


def test_payment_status_follows_refunds_paid_out():
    from decimal import Decimal

    from lib.domain import payment_status_for

    assert payment_status_for(Decimal("0"), Decimal("0")) == "unpaid"
    assert payment_status_for(Decimal("100"), Decimal("0")) == "paid"
    assert payment_status_for(Decimal("100"), Decimal("30")) == "partially_refunded"
    assert payment_status_for(Decimal("100"), Decimal("100")) == "refunded"
