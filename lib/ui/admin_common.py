"""Parts shared by the admin pages (users, reasons, warehouses & categories, team chat): a change made with its
refusal shown or its message kept across the rerun, and the move up / move down buttons of an ordered list."""
from collections.abc import Callable

import streamlit as st

from lib.errors import VoidDeskError
from lib.ui.cached import clear_read_caches
from lib.ui.context import show_error, tr


def show_flash(key: str) -> None:
    """The success message a change left under `key` before its rerun, shown once."""
    text = st.session_state.pop(key, None)
    if text:
        st.success(text, icon=":material/check_circle:")


def flash_and_rerun(key: str, text: str) -> None:
    """After a change: forget cached reads, keep `text` for show_flash and rerun, so every table shows the change."""
    clear_read_caches()
    st.session_state[key] = text
    st.rerun()


def act(change: Callable[[], object], key: str, done: str) -> None:
    """Make `change`: its refusal shown here, or `done` kept under `key` for show_flash and the page run again."""
    try:
        change()
    except VoidDeskError as exc:
        show_error(exc)
        return
    flash_and_rerun(key, done)


def clicked_step(codes: list[str], code: str, key: str, words: str) -> int | None:
    """Move up / move down buttons for `code` in `codes` (disabled at either end), with keys {key}_up and
    {key}_down and labels {words}.move_up / .move_down; -1 or +1 when one was clicked, else None."""
    at = codes.index(code)
    left, right, _ = st.columns([1, 1, 4])
    buttons = ((left, -1, "up", ":material/arrow_upward:", at == 0),
               (right, 1, "down", ":material/arrow_downward:", at == len(codes) - 1))
    clicked = [step for column, step, way, icon, disabled in buttons
               if column.button(tr(f"{words}.move_{way}"), key=f"{key}_{way}", icon=icon, disabled=disabled)]
    return clicked[0] if clicked else None
