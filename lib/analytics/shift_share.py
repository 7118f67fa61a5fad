"""The arithmetic of "explain a change" (issue #17): a symmetric shift-share split on integer counts, exact.

A segment i has a count c (voids, return notes) and a base b (orders created, orders shipped) in each period; the
totals are C and B. With w = b / B its share of the base and r = c / b its rate:

  rate:  contribution = w1·r1 − w0·r0 = c1/B1 − c0/B0, split into mix = (w1 − w0)(r0 + r1)/2 (the segment grew or
         shrank in the base) and rate_effect = (r1 − r0)(w0 + w1)/2 (its own rate moved). The contributions of all
         segments add up to C1/B1 − C0/B0, the change of the rate.
  count: contribution = c1 − c0, split into mix = (b1 − b0)(r0 + r1)/2 (volume: more or fewer orders) and
         rate_effect = (r1 − r0)(b0 + b1)/2 (the same orders voided more or less often).

A segment without base on one side (it appeared or vanished) takes the other side's rate there, so its change is
all mix; counts without any base are all rate effect. A dimension that splits only the count (reason) gives each
segment the whole base, so its mix is 0 for rates. Everything is Fraction until `rounded`, which rounds the
contributions by largest remainder so that the rounded rows still add up to the rounded change.
"""
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

MEASURES = ("rate", "count")
DIGITS = {"rate": 6, "count": 2}   # rates to 0.0001 percentage points; counts' volume / rate split to 0.01


@dataclass(frozen=True)
class Segment:
    b0: int
    b1: int
    c0: int
    c1: int


@dataclass(frozen=True)
class Split:
    contribution: Fraction
    mix: Fraction
    rate_effect: Fraction


def rate(count: int, base: int) -> Fraction | None:
    return Fraction(count, base) if base else None


def total_change(measure: str, c0: int, b0: int, c1: int, b1: int) -> Fraction:
    """The change of the whole: rate C1/B1 − C0/B0 (both bases > 0), or count C1 − C0."""
    if measure == "count":
        return Fraction(c1 - c0)
    return Fraction(c1, b1) - Fraction(c0, b0)


def split(measure: str, s: Segment, base0: int, base1: int) -> Split:
    """One segment's contribution to the change and its mix / rate-effect parts (totals base0, base1)."""
    r0, r1 = _rates(s)
    if measure == "count":
        contribution = Fraction(s.c1 - s.c0)
        mix = (s.b1 - s.b0) * (r0 + r1) / 2
    else:
        contribution = Fraction(s.c1, base1) - Fraction(s.c0, base0)
        mix = (Fraction(s.b1, base1) - Fraction(s.b0, base0)) * (r0 + r1) / 2
    return Split(contribution, mix, contribution - mix)


def _rates(s: Segment) -> tuple[Fraction, Fraction]:
    """(r0, r1) where a side without base borrows the other side's rate (0 when neither has a base)."""
    r0, r1 = rate(s.c0, s.b0), rate(s.c1, s.b1)
    if r0 is None and r1 is None:
        return Fraction(0), Fraction(0)
    return (r1 if r0 is None else r0), (r0 if r1 is None else r1)


def rounded(values: list[Fraction], total: Fraction, digits: int) -> list[Decimal]:
    """`values` (which add up to `total`) rounded to `digits` decimals so that they add up to `total` rounded:
    each is rounded down, and the units still missing go to the largest remainders (ties: the earlier row)."""
    unit = Fraction(1, 10 ** digits)
    target = round(total / unit)
    floors = [math.floor(v / unit) for v in values]
    missing = target - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] / unit - floors[i]), i))
    for i in order[:missing]:
        floors[i] += 1
    return [Decimal(n).scaleb(-digits) for n in floors]


def to_decimal(value: Fraction | None, digits: int) -> Decimal | None:
    """A fraction rounded half-even to `digits` decimals."""
    if value is None:
        return None
    unit = Fraction(1, 10 ** digits)
    return Decimal(round(value / unit)).scaleb(-digits)
