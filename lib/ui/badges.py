"""Coloured status badges, the same everywhere."""
import streamlit as st

from lib.ui.context import label

STATUS_COLOURS = {"pending": "blue", "processing": "violet", "shipped": "orange", "completed": "green",
                  "voided": "red", "archived": "gray"}
PAYMENT_COLOURS = {"unpaid": "gray", "paid": "green", "partially_refunded": "orange", "refunded": "red"}


def status_badge(status: str, container=st) -> None:
    container.badge(label("status", status), color=STATUS_COLOURS.get(status, "gray"))


def payment_badge(payment: str, container=st) -> None:
    container.badge(label("payment", payment), color=PAYMENT_COLOURS.get(payment, "gray"))
