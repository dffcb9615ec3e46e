"""What the pilot offers for a limit (IEC 61851-1 Annex A, tables A.6/A.7).

The pilot's PWM can say 6 A to 80 A (duty = A / 0.6 from 6 to 51 A, A / 2.5 + 64 from 51 to 80 A; the
HAL turns the offer into that duty, :func:`hal.pilot.base.duty_for_current`). Below 6 A there is no
duty that means "charge", so the connector offers nothing and charging is suspended (issue 18:
SuspendedEVSE) until the limit rises again.
"""

from __future__ import annotations

#: The least current a PWM duty can offer (IEC 61851-1 table A.7: 10 % duty).
MIN_OFFER = 6.0
#: The most (96 % duty).
MAX_OFFER = 80.0


def offer_for_limit(amps: float) -> float | None:
    """The current to offer on the pilot under a limit of ``amps`` per phase: None below 6 A (suspend,
    nothing offered), at most 80 A."""
    if amps < MIN_OFFER:
        return None
    return min(amps, MAX_OFFER)
