"""The models page prints every price the same way, whatever its source: "0.00 · 0.00" for
the simulator and a free model alike, never "0 · 0" in one row and "0.0 · 0.0" in the next."""

import re

from django.test import Client

from teams.templatetags.prices import usd
from tests.factories import make_model_config


def prices(client: Client) -> list[str]:
    page = client.get("/settings/models/").text
    return re.findall(r"<td>([\d.]+ · [\d.]+)", page)


def test_every_row_prints_its_prices_in_one_format(alice_client: Client, alice) -> None:
    # A priced model next to the simulator.
    make_model_config(
        alice, "http://127.0.0.1:9/v1", name="priced", credential="",
        input_usd_per_mtok="0.075", output_usd_per_mtok="2.5",
    )  # fmt: skip
    assert prices(alice_client) == ["0.00 · 0.00", "0.075 · 2.50"]


def test_a_price_nobody_knows_says_so_instead_of_zero(alice_client: Client, alice) -> None:
    make_model_config(alice, "http://127.0.0.1:9/v1", name="mystery", credential="")
    page = alice_client.get("/settings/models/").text
    assert "<td>unknown <small>(not in the catalogue)</small></td>" in page
    assert prices(alice_client) == ["0.00 · 0.00"]  # the simulator's only


def test_a_price_keeps_the_decimals_it_needs_and_no_more() -> None:
    assert [usd(v) for v in (0, 0.0, 15, 0.15, 1.25, 0.0375, "unknown", None)] == [
        "0.00", "0.00", "15.00", "0.15", "1.25", "0.0375", "unknown", "unknown",
    ]  # fmt: skip
