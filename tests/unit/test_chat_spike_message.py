"""A spike's chat message names where most of it is: its top segment, and the warehouse or rep holding it when the
alert found one (lib.services.spike_alerts, issue #17) — in the channel's language."""
from datetime import datetime

from lib.services.chat_messages import Entry, compose

TOP = {"dimension": "category", "key": "phones", "label_en": "Phones", "label_zh": "手机"}
IN_GZ = {"dimension": "warehouse", "key": "GZ", "label_en": "Guangzhou", "label_zh": "广州仓", "share": 0.94}


def _text(top: dict, lang: str) -> str:
    entry = Entry(id=3, created_at=datetime(2026, 12, 6, 9, 0), action="spike.alert", entity_id="out_of_stock",
                  order_no=None, after={"kind": "void", "week": "2026-11-23", "count": 41, "threshold": 12,
                                        "top": top}, actor="analyst", reason_labels=("Out of stock", "缺货"))
    return compose(entry, lang, None).text


def test_a_spike_held_by_one_warehouse_names_both_in_each_language():
    assert _text({**TOP, "in": IN_GZ}, "en").endswith("Most of them: Phones, in warehouse Guangzhou.")
    assert _text({**TOP, "in": IN_GZ}, "zh").endswith("主要集中在：手机，仓库“广州仓”。")


def test_a_spike_without_a_second_segment_names_its_top_alone():
    assert _text({**TOP, "in": None}, "en").endswith("Most of them: Phones.")
    assert _text(TOP, "zh").endswith("主要集中在：手机。")    # alerts written before the combination
