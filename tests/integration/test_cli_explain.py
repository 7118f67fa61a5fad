"""`stats explain` and `stats spikes --notify` (issue #17): the explanation as JSON, clear refusals, and each new
spike alerted once — a notification to every ops lead and analyst and one audit entry the chat delivery reads."""
import json
import random
from datetime import date, datetime, timedelta

import pytest

from lib import i18n
from lib.analytics import explain
from lib.db import connect
from tests.integration import analytics_data as ad
from tests.integration.cli_helpers import cli

PERIOD = ["--from", "2024-03-01", "--to", "2024-03-31"]
SPIKE_WEEK = date(2024, 3, 18)


def plant_spike(book: ad.Book) -> None:
    """Fifteen Phone Two orders from Guangzhou voided for out of stock in one week: a spike with a clear cause."""
    rng = random.Random(3)
    for i in range(15):
        created = datetime.combine(SPIKE_WEEK, datetime.min.time()) + timedelta(hours=rng.uniform(0, 100))
        o = ad.Order(f"SP-{i:03d}", rng.choice(["CUS-1", "CUS-2"]), rng.choice(["sales", "sales2"]), "GZ", created,
                     [["PHN-2", 1, 0], ["TOY-1", rng.randint(1, 3), 0]])
        book.orders.append(o)
        when = created + timedelta(hours=2)
        book.voids.append(ad.Void(o, "applied", "out_of_stock", when, False, None, when))
    book.orders.sort(key=lambda o: o.created)


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    book = ad.make_book(seed=17, n=300)
    plant_spike(book)
    desk = ad.build_desk(tmp_path_factory.mktemp("cli_explain") / "desk.duckdb")
    ad.insert_book(desk.db, book)
    desk.db.close()
    return desk


def run(desk, *args):
    return cli(desk.db.path, "stats", *args)


def json_of(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_explain_prints_the_explanation_as_json_with_its_time(desk):
    got = json_of(run(desk, "explain", "voids", *PERIOD, "--vs-from", "2024-02-01", "--vs-to", "2024-02-29",
                      "--by", "sku", "--user", "analyst", "--json"))
    db = connect(desk.db.path)   # the backend the desk is on
    try:
        want = explain.explain(db, desk.analyst, "voids", (date(2024, 2, 1), date(2024, 2, 29)),
                               (date(2024, 3, 1), date(2024, 3, 31)), by="sku")
    finally:
        db.close()
    assert isinstance(got.pop("seconds"), float)
    assert got == json.loads(json.dumps(want))
    assert [r["key"] for r in got["rows"]][0] == "PHN-2"


def test_explain_compares_with_the_period_just_before_by_default(desk):
    got = json_of(run(desk, "explain", "returns", *PERIOD, "--by", "reason", "--measure", "count", "--user",
                      "analyst", "--json"))
    assert (got["before"]["from"], got["before"]["to"]) == ("2024-01-30", "2024-02-29")
    assert sum(r["contribution"] for r in got["rows"]) == got["change"] == got["after"]["count"] - got["before"]["count"]


def test_explain_reads_as_a_table_without_json(desk):
    result = run(desk, "explain", "voids", *PERIOD, "--by", "warehouse", "--user", "analyst")
    assert result.returncode == 0, result.stderr
    assert "change" in result.stdout.splitlines()[0] and " pp" in result.stdout and "Guangzhou" in result.stdout


@pytest.mark.parametrize("args, words", [
    (["explain", "voids", *PERIOD, "--by", "colour"], "Unknown dimension “colour”"),
    (["explain", "voids", "--from", "2024-03-31", "--to", "2024-03-01"], "is after the end date"),
    (["explain", "voids", *PERIOD, "--vs-from", "2024-02-01"], "both --vs-from and --vs-to"),
    (["explain", "voids", *PERIOD, "--measure", "value"], "Unknown measure"),
    (["explain", *PERIOD], "Unknown kind"),
    (["explain", "voids", *PERIOD, "--vs-from", "2030-01-01", "--vs-to", "2030-01-31"], "No orders were created"),
])
def test_bad_input_gets_one_line_and_exit_1(desk, args, words):
    result = run(desk, *args, "--user", "analyst")
    assert result.returncode == 1 and words in result.stderr and result.stdout == ""


def test_a_new_spike_is_alerted_once_to_leads_and_analysts_with_one_audit_entry(desk):
    week = ["--from", "2024-03-18", "--to", "2024-03-24"]
    first = json_of(run(desk, "spikes", "voids", *week, "--notify", "--user", "analyst", "--json"))
    assert [(s["reason_code"], s["week"], s["new"]) for s in first] == [("out_of_stock", "2024-03-18", True)]
    top = first[0]["top"]
    assert (top["dimension"], top["key"]) in {("sku", "PHN-2"), ("category", "phones"), ("warehouse", "GZ")}
    again = json_of(run(desk, "spikes", *week, "--notify", "--user", "analyst", "--json"))
    assert [s["new"] for s in again] == [False]
    db = connect(desk.db.path)   # the backend the desk is on
    try:
        with db.read() as cur:
            entries = cur.execute("SELECT entity_type, entity_id, after, actor_name FROM audit_log"
                                  " WHERE action = 'spike.alert'").fetchall()
            told = cur.execute("SELECT u.username, n.params FROM notifications n JOIN users u ON u.id = n.user_id"
                               " WHERE n.kind = 'spike.detected' ORDER BY 1").fetchall()
    finally:
        db.close()
    assert [(t, i, a) for t, i, _, a in entries] == [("reason", "out_of_stock", "analyst")]
    after = json.loads(entries[0][2])
    assert after == {"kind": "void", "week": "2024-03-18", "count": first[0]["count"],
                     "threshold": first[0]["threshold"], "top": top}
    assert [u for u, _ in told] == ["analyst", "ops_lead"]
    params = json.loads(told[0][1])
    for lang in ("en", "zh"):
        assert top[f"label_{lang}"] in i18n.t("notification.spike.detected", lang, **i18n.in_language(params, lang))


def test_spikes_without_notify_only_list_them(desk):
    found = json_of(run(desk, "spikes", "voids", "--from", "2024-03-18", "--to", "2024-03-24", "--user", "analyst",
                        "--json"))
    assert [(s["reason_code"], s["week"]) for s in found] == [("out_of_stock", "2024-03-18")]
