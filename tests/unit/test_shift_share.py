"""The arithmetic of "explain a change" (issue #17): exact on any counts, rounded rows that still add up."""
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from lib.analytics import shift_share as ss

counts = st.integers(min_value=0, max_value=10_000)
segment = st.tuples(counts, counts, counts, counts).map(lambda t: ss.Segment(t[0], t[1], min(t[2], t[0] + 3),
                                                                             min(t[3], t[1] + 3)))


def _change(measure, segs):
    b0, b1 = sum(s.b0 for s in segs), sum(s.b1 for s in segs)
    return ss.total_change(measure, sum(s.c0 for s in segs), max(b0, 1), sum(s.c1 for s in segs), max(b1, 1)), b0, b1


@settings(max_examples=150, deadline=None)
@given(st.lists(segment, min_size=1, max_size=12), st.sampled_from(ss.MEASURES))
def test_contributions_add_up_to_the_change_exactly(segs, measure):
    change, b0, b1 = _change(measure, segs)
    splits = [ss.split(measure, s, max(b0, 1), max(b1, 1)) for s in segs]
    assert sum(p.contribution for p in splits) == change
    assert all(p.mix + p.rate_effect == p.contribution for p in splits)
    shown = ss.rounded([p.contribution for p in splits], change, ss.DIGITS[measure])
    assert sum(shown) == ss.to_decimal(change, ss.DIGITS[measure])
    unit = Fraction(1, 10 ** ss.DIGITS[measure])
    assert all(abs(Fraction(d) - p.contribution) < unit for d, p in zip(shown, splits))


def test_the_textbook_split_where_both_periods_have_a_base():
    # phones: 10% of 100 orders -> 20% of 200; toys 10% of 100 -> 10% of 100
    phones, toys = ss.Segment(100, 200, 10, 40), ss.Segment(100, 100, 10, 10)
    p = ss.split("rate", phones, 200, 300)
    assert p.contribution == Fraction(40, 300) - Fraction(10, 200)
    assert p.mix == (Fraction(200, 300) - Fraction(100, 200)) * (Fraction(1, 10) + Fraction(2, 10)) / 2
    assert p.rate_effect == (Fraction(2, 10) - Fraction(1, 10)) * (Fraction(100, 200) + Fraction(200, 300)) / 2
    t = ss.split("rate", toys, 200, 300)
    assert t.rate_effect == 0 and t.mix < 0   # toys only lost weight in the base


def test_a_new_segment_is_all_mix_and_counts_without_base_all_rate():
    new = ss.split("rate", ss.Segment(0, 50, 0, 5), 100, 150)
    assert (new.mix, new.rate_effect) == (Fraction(5, 150), 0)
    orphan = ss.split("count", ss.Segment(0, 0, 2, 7), 100, 150)
    assert (orphan.contribution, orphan.mix, orphan.rate_effect) == (5, 0, 5)


def test_a_count_split_into_volume_and_rate():
    s = ss.split("count", ss.Segment(100, 200, 10, 40), 1, 1)
    assert s.contribution == 30
    assert s.mix == 100 * Fraction(3, 10) / 2 and s.rate_effect == Fraction(1, 10) * 300 / 2


def test_rounding_gives_the_missing_units_to_the_largest_remainders():
    thirds = [Fraction(1, 3)] * 3
    assert ss.rounded(thirds, Fraction(1), 2) == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert ss.rounded([Fraction(-1, 3)] * 3, Fraction(-1), 2) == [Decimal("-0.33"), Decimal("-0.33"),
                                                                  Decimal("-0.34")]
