"""Bad input for the fuzz tests: fixed sweeps of the classic troublemakers and hypothesis strategies around them, and
the check every refusal must pass (a VoidDeskError saying why in both languages, and nothing written).

Text parameters get text (any str or None: what a form field, a CLI flag or a file cell gives); number parameters
get anything a form, a flag or a file may give: int, float, Decimal, str, bool, None."""
import os
from decimal import Decimal
from string import Formatter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from lib.errors import VoidDeskError
from lib.i18n import catalogue
from tests.integration.access_support import fingerprint

EXAMPLES = int(os.environ.get("VOIDDESK_FUZZ_EXAMPLES", "3"))   # random examples per parameter on top of the sweep
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))

SCRIPT = "<script>alert(1)</script>"
SQL = "'; DROP TABLE orders; --"
FORMULA = "=cmd|'/c calc'!A1"
# One accepted value carrying most troublemakers at once: markup, SQL, a formula, format fields, RTL override,
# CJK, emoji, a zero-width joiner, control characters and a NUL inside.
KITCHEN_SINK = f"{SCRIPT} {SQL} +{FORMULA} {{0}} %s \u202eevil\u202c 退货 🎉\u200d \x07\x1b[31m a\x00b \\"
LONG = ("长文本 long text " * 700)[:10_000]

TEXT_SWEEP = (None, "", " \t\r\n ", KITCHEN_SINK, FORMULA, LONG)
NUMBER_SWEEP = (None, "", "abc", "1e309", "-1", "0", "NaN", "0x10", "9" * 400, -10 ** 20, float("nan"), float("-inf"),
                2.5, 1.0, True, Decimal("NaN"), Decimal("1"), 2 ** 63)
CODE_SWEEP = ("", "no_such_code", "CUSTOMER_CANCELLED", " customer_cancelled'--", SCRIPT, SQL)

SWEEP = {"text": TEXT_SWEEP, "number": NUMBER_SWEEP, "code": CODE_SWEEP}
STRATEGY = {
    "text": st.one_of(st.text(max_size=60), st.sampled_from(TEXT_SWEEP),
                      st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=4), st.integers(500, 3000))),
    "number": st.one_of(st.integers(), st.floats(), st.decimals(), st.text(max_size=8), st.booleans(),
                        st.sampled_from(NUMBER_SWEEP)),
    "code": st.one_of(st.text(max_size=24), st.sampled_from(CODE_SWEEP)),
}


def assert_clear(exc: VoidDeskError) -> None:
    """Its key has words in both languages and every {field} of them is filled in."""
    for lang in ("en", "zh"):
        template = catalogue(lang).get(exc.key)
        assert template, f"{exc.key} has no {lang} text"
        fields = {name for _, name, _, _ in Formatter().parse(template) if name}
        assert fields <= set(exc.params), f"{exc.key} ({lang}) is missing {fields - set(exc.params)}"
        assert exc.message(lang).strip()


class Attempts:
    """Runs calls against one database: a refusal must be clear and leave every table as it was."""

    def __init__(self, db):
        self.db = db
        self.refresh()

    def refresh(self) -> None:
        """Take the fingerprint again (after arranging new records)."""
        self.before = fingerprint(self.db)

    def run(self, call):
        """(result, None) when accepted, (None, the refusal) when refused; anything else is raised."""
        try:
            result = call()
        except VoidDeskError as exc:
            assert_clear(exc)
            after = fingerprint(self.db)
            changed = [table for table in after if after[table] != self.before.get(table)]
            assert not changed, f"{exc.key} refused but changed {changed}"
            return None, exc
        self.before = fingerprint(self.db)
        return result, None
