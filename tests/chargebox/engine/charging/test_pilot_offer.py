"""The pilot offer for a charging limit (IEC 61851-1 Annex A): what the connector offers, and the duty the
HAL's pilot then writes for it."""

from __future__ import annotations

import pytest

from chargebox.engine.charging import offer_for_limit
from hal.pilot.base import duty_for_current


@pytest.mark.parametrize(("limit", "offer", "duty"), [
    (0.0, None, 100.0),  # no offer: +12 V steady, charging suspended
    (5.9, None, 100.0),  # below 6 A no duty means "charge"
    (6.0, 6.0, 10.0),  # A / 0.6
    (16.0, 16.0, 26.67),
    (32.0, 32.0, 53.33),
    (51.0, 51.0, 85.0),
    (60.0, 60.0, 88.0),  # A / 2.5 + 64
    (80.0, 80.0, 96.0),
    (125.0, 80.0, 96.0),  # the most a duty can offer
])
def test_a_limit_becomes_an_offer_and_its_duty(limit: float, offer: float | None, duty: float) -> None:
    assert offer_for_limit(limit) == offer
    assert duty_for_current(offer) == duty
