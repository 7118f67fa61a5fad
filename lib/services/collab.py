"""Working on orders together (SPEC §2): assign / reassign, comments."""

from lib import clock
from lib.db import Database, scalar
from lib.domain import User, require
from lib.errors import InvalidInput
from lib.services import audit
from lib.services.notify import notify
from lib.services.orders import bump, load_for_update, refuse_if_archived

MAX_COMMENT = 4000


def assign(db: Database, actor: User, order_no: str, assignee: str, *, note: str | None = None,
           expected_version: int | None = None) -> dict:
    """Hand the order to another user; they are notified, the previous assignee keeps read access."""
    require(actor, "order.assign")
    with db.transaction() as cur:
        order = load_for_update(cur, actor, order_no, expected_version)
        refuse_if_archived(order)
        to_id = scalar(cur, "SELECT id FROM users WHERE username = ? AND active", [assignee])
        if to_id is None:
            raise InvalidInput("users.not_found", username=assignee)
        if to_id == order["assignee_id"]:
            return {"order_no": order_no, "assignee": assignee}
        now = clock.now()
        bump(cur, order, "assignee_id = ?", [to_id])
        cur.execute("INSERT INTO assignments (order_id, from_user_id, to_user_id, by_user_id, created_at, note)"
                    " VALUES (?, ?, ?, ?, ?, ?)", [order["id"], order["assignee_id"], to_id, actor.id, now, note])
        audit.record(cur, actor, "order.assign", "order", order["id"], order_no=order_no, note=note,
                     before={"assignee_id": order["assignee_id"]}, after={"assignee_id": to_id})
        notify(cur, [to_id], "order.assigned", {"order_no": order_no, "by": actor.display_name},
               order_no=order_no, exclude=actor.id)
    return {"order_no": order_no, "assignee": assignee}


def add_comment(db: Database, actor: User, order_no: str, body: str) -> dict:
    """A plain-text comment; the rep and the assignee are told."""
    require(actor, "order.comment")
    body = (body or "").strip()
    if not body:
        raise InvalidInput("comments.empty")
    if len(body) > MAX_COMMENT:
        raise InvalidInput("comments.too_long", n=MAX_COMMENT)
    with db.transaction() as cur:
        order = load_for_update(cur, actor, order_no)
        refuse_if_archived(order)
        comment_id = scalar(cur, "INSERT INTO comments (order_id, author_id, created_at, body)"
                                 " VALUES (?, ?, ?, ?) RETURNING id", [order["id"], actor.id, clock.now(), body])
        audit.record(cur, actor, "order.comment", "comment", comment_id, order_no=order_no,
                     after={"body": body})
        notify(cur, [order["rep_id"], order["assignee_id"]], "order.commented",
               {"order_no": order_no, "by": actor.display_name}, order_no=order_no, exclude=actor.id)
    return {"order_no": order_no, "comment_id": comment_id}
