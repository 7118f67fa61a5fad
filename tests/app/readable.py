"""What a person would call unreadable in the tables an AppTest run shows (issue #16): a header that is a column's
own name, a cell that reads "None", an order or return number in a column too narrow to show it whole."""
import json
import re

RAW_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")   # a column's own name (snake_case), not a word for people
NUMBER = re.compile(r"(?:^|[?&]no=)([A-Z]{2,}-\d{6,}-\d+)$")   # SO-20261203-00028, RT-…, or a link to one
WIDTH_PX = {"small": 75, "medium": 200, "large": 400}
# Measured in Chromium at 1280 px (issue #16): SO-20261203-00028 takes ~135 px in a cell in either language.
PX_PER_CHAR, PADDING_PX = 8, 24


def _columns(table) -> list[tuple[str, dict]]:
    """(name, column config) of each column the table shows."""
    config = json.loads(table.proto.columns or "{}")
    names = list(table.proto.column_order) or [str(c) for c in table.value.columns]
    return [(name, config.get(f"name:{name}") or config.get(name) or {}) for name in names]


_MISSING_AS_TEXT = ("nan", "NaN", "None", "NaT", "<NA>")   # str() of a missing value, made into a cell's text


def raw_names(app) -> list[str]:
    """Headers shown as a column's own name, columns with a cell that reads "None", and empty grids (which say
    "empty", in English), in the tables shown."""
    found = []
    for table in app.dataframe:
        if table.value.empty:
            found.append("an empty grid")
        # Missing values read "None" unless the table names its own placeholder (show_table: an empty cell).
        blank = table.proto.HasField("placeholder") and table.proto.placeholder != "None"
        for column, spec in _columns(table):
            if spec.get("hidden"):
                continue
            if RAW_NAME.match(str(spec.get("label") or column)):
                found.append(f"header {column}")
            values = table.value[column] if column in table.value.columns else None
            if not blank and values is not None and values.isna().any():
                found.append(f"None in {column}")
            if values is not None and values.dtype == object and values.map(str).isin(_MISSING_AS_TEXT).any():
                found.append(f"a missing value spelled out in {column}")
    return found


def cut_numbers(app) -> list[str]:
    """Columns holding order or return numbers whose width (st.column_config) may not show the longest whole: in
    st.dataframe a column sized to its first rows, or to its header, cuts the rest short with "…"."""
    found = []
    for table in app.dataframe:
        for column, spec in _columns(table):
            if spec.get("hidden") or column not in table.value.columns:
                continue
            numbers = [m.group(1) for v in table.value[column] if isinstance(v, str) and (m := NUMBER.search(v))]
            if not numbers:
                continue
            needed = PX_PER_CHAR * max(map(len, numbers)) + PADDING_PX
            width = spec.get("width")
            if WIDTH_PX.get(width, width if isinstance(width, int) else 0) < needed:
                found.append(f"{column} ({width or 'auto'} for {numbers[0]})")
    return found
