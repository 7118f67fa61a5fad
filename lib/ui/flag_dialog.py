"""The order page's dialogs (void, return) open from session_state keys `<kind>_dialog`, `<kind>_step` and
`<kind>_key`: AppTest can drive a dialog opened from a flag, not one opened by a one-shot button. Opening and
stepping happen in button callbacks, before the rerun, so a step reruns the dialog and not the page."""
import uuid

import streamlit as st


def open_dialog(kind: str, order_no: str) -> None:
    """Flag the dialog open for the order, at step 1, with a fresh submission key."""
    st.session_state[f"{kind}_dialog"] = order_no
    go_to_step(kind, 1)
    st.session_state[f"{kind}_key"] = uuid.uuid4().hex


def go_to_step(kind: str, step: int) -> None:
    st.session_state[f"{kind}_step"] = step


def forget_dialog(kind: str) -> None:
    """Drop the flag (and step and key), or the dialog would open again on the page's next rerun."""
    for suffix in ("dialog", "step", "key"):
        st.session_state.pop(f"{kind}_{suffix}", None)
