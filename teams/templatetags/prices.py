"""Prices as the pages print them: one format for every row, whatever type the price came in."""

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def usd(value: Any) -> str:
    """A price in US dollars: two decimals, up to four when a price needs them ("0.00",
    "2.50", "0.075"); a price that is not a number ("unknown") as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value) if value not in (None, "") else "unknown"
    text = f"{value:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"
