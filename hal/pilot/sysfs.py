"""The control pilot on a Linux board: PWM from the sysfs PWM class, voltage from a sysfs IIO ADC.

PWM (Documentation/ABI/testing/sysfs-class-pwm): ``<pwm_root>/pwmchipN/export`` makes ``pwmM/``
appear, with ``period`` and ``duty_cycle`` in nanoseconds and ``enable``. The pilot is 1 kHz
(IEC 61851-1 A.2: period 1 ms); the board's driver stage turns the PWM into +/-12 V, so 100 %
duty is a steady +12 V (nothing offered) and 0 % a steady -12 V (state F).

Voltage (Documentation/ABI/testing/sysfs-bus-iio): ``in_voltageX_raw`` of an IIO ADC (an MCP3008,
ADS1115 or the SoC's own ADC), read every ``sample_interval``. The board's divider maps the pilot's
high level (sampled by a peak detector, as pilot front ends do) into the ADC range; the map is
linear: ``volts = raw * adc_scale + adc_offset``. An optional second channel, ``low_adc_path``,
reads the negative plateau: while a PWM is offered it must be -12 V, otherwise the EV's diode is
missing (IEC 61851-1 A.3) and a ``DeviceFault(MODE3)`` is reported.

States (IEC 61851-1 table A.4): A +12 V, B +9 V, C +6 V, D +3 V, E 0 V, F -12 V. A reading belongs
to the nearest nominal level; the current state is kept while the reading stays within 1.5 V +
``hysteresis`` of its level (so a noisy 7.5 V does not flap B/C), and a new state is reported only
after ``debounce`` consecutive samples agree.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from hal.errors import ConfigurationError, DeviceUnavailable, FrameError
from hal.events import FaultKind, PilotState
from hal.pilot.base import Pilot

PERIOD_NS = 1_000_000  # 1 kHz
NOMINAL_V = {
    PilotState.A: 12.0,
    PilotState.B: 9.0,
    PilotState.C: 6.0,
    PilotState.D: 3.0,
    PilotState.E: 0.0,
    PilotState.F: -12.0,
}
BAND_V = 1.5
#: The negative plateau must be below this while a PWM is offered (nominal -12 V).
DIODE_MAX_LOW_V = -10.0


def classify(volts: float, current: PilotState | None, hysteresis: float) -> PilotState:
    """The pilot state for a reading, keeping ``current`` while within its band plus hysteresis."""
    if current is not None and abs(volts - NOMINAL_V[current]) <= BAND_V + hysteresis:
        return current
    return min(NOMINAL_V, key=lambda s: abs(volts - NOMINAL_V[s]))


class SysfsPilot(Pilot):
    """Backend ``"sysfs"`` of ``[connector.pilot]``.

    Options: ``pwm_chip``, ``pwm_channel``, ``pwm_root`` (default ``/sys/class/pwm``), ``adc_path``
    (the IIO raw file), ``adc_scale`` (pilot volts per count), ``adc_offset`` (pilot volts at count
    0), ``low_adc_path`` (optional, negative plateau, same scale), ``sample_interval`` (seconds),
    ``debounce`` (samples), ``hysteresis`` (volts).
    """

    INJECTED = ("connector",)

    def __init__(
        self,
        *,
        adc_path: str,
        adc_scale: float,
        adc_offset: float = 0.0,
        low_adc_path: str | None = None,
        pwm_chip: int = 0,
        pwm_channel: int = 0,
        pwm_root: str = "/sys/class/pwm",
        sample_interval: float = 0.02,
        debounce: int = 3,
        hysteresis: float = 0.5,
        connector: int = 1,
    ) -> None:
        super().__init__()
        # TOML has nan and inf: either would make every reading one state, or none.
        if adc_scale == 0 or not math.isfinite(adc_scale):
            raise ConfigurationError(f"adc_scale: expected a finite number other than 0, got {adc_scale!r}")
        if not math.isfinite(adc_offset):
            raise ConfigurationError(f"adc_offset: expected a finite number, got {adc_offset!r}")
        # The sysfs PWM class numbers chips and channels from 0 (pwmchipN, pwmM).
        if pwm_chip < 0:
            raise ConfigurationError(f"pwm_chip: expected >= 0, got {pwm_chip!r}")
        if pwm_channel < 0:
            raise ConfigurationError(f"pwm_channel: expected >= 0, got {pwm_channel!r}")
        if not 0.001 <= sample_interval <= 1:
            raise ConfigurationError(f"sample_interval: expected 0.001..1 seconds, got {sample_interval!r}")
        if debounce < 1:
            raise ConfigurationError(f"debounce: expected >= 1 samples, got {debounce!r}")
        if not 0 <= hysteresis <= 1.5:
            raise ConfigurationError(f"hysteresis: expected 0..1.5 volts, got {hysteresis!r}")
        self.adc_path = Path(adc_path)
        self.low_adc_path = Path(low_adc_path) if low_adc_path else None
        self.adc_scale = adc_scale
        self.adc_offset = adc_offset
        self.chip_dir = Path(pwm_root) / f"pwmchip{pwm_chip}"
        self.pwm_dir = self.chip_dir / f"pwm{pwm_channel}"
        self.pwm_channel = pwm_channel
        self.sample_interval = sample_interval
        self.debounce = debounce
        self.hysteresis = hysteresis
        self.connector = connector
        self._candidate: PilotState | None = None
        self._agreeing = 0
        self._opened = False
        self._diode_missing = False

    async def _open(self) -> None:
        """Export the PWM channel if needed, set 1 kHz, start at 100 % (+12 V, nothing offered)."""
        if not self.pwm_dir.is_dir():
            self._write_file(self.chip_dir / "export", str(self.pwm_channel))
            if not self.pwm_dir.is_dir():
                raise DeviceUnavailable(f"pilot PWM: exporting channel {self.pwm_channel} made no {self.pwm_dir}")
        self._write_file(self.pwm_dir / "period", str(PERIOD_NS))
        await self._write_duty(100.0)
        self._write_file(self.pwm_dir / "enable", "1")
        self._read_volts(self.adc_path)  # fail now, not at the first sample, if the ADC is missing
        self._opened = True

    async def _close(self) -> None:
        if self._opened:
            self._opened = False
            await self._write_duty(None)  # -12 V: not available while the daemon is not running

    async def _write_duty(self, duty: float | None) -> None:
        ns = 0 if duty is None else round(PERIOD_NS * duty / 100.0)
        self._write_file(self.pwm_dir / "duty_cycle", str(ns))

    async def _next_state(self) -> PilotState:
        while True:
            state = classify(self._read_volts(self.adc_path), self.state, self.hysteresis)
            self._check_diode(state)
            if state == self._candidate:
                self._agreeing += 1
            else:
                self._candidate, self._agreeing = state, 1
            if self._agreeing >= self.debounce and (state != self.state or self.state is None):
                return state
            await asyncio.sleep(self.sample_interval)  # the ADC's sampling period

    def _check_diode(self, state: PilotState) -> None:
        if self.low_adc_path is None:
            return
        # Only meaningful while a PWM runs and an EV is there (B-D); otherwise leave the verdict as is.
        pwm_on = self.duty is not None and 0 < self.duty < 100 and state in (PilotState.B, PilotState.C, PilotState.D)
        if not pwm_on and not self._diode_missing:
            return
        low = self._read_volts(self.low_adc_path) if pwm_on else -12.0
        missing = low > DIODE_MAX_LOW_V
        if missing != self._diode_missing:
            self._diode_missing = missing
            # MODE3 is shared with state E, which the base class reports: do not clear that one.
            self._report(FaultKind.MODE3, missing or state is PilotState.E, f"EV diode missing: pilot low {low:.1f} V")

    def _read_volts(self, path: Path) -> float:
        try:
            text = path.read_text().strip()
        except OSError as err:
            raise DeviceUnavailable(f"pilot ADC {path}: {err.strerror or err}") from err
        try:
            raw = int(text)
        except ValueError as err:
            raise FrameError(f"pilot ADC {path}: expected an integer, got {text[:20]!r}") from err
        return raw * self.adc_scale + self.adc_offset

    @staticmethod
    def _write_file(path: Path, value: str) -> None:
        try:
            path.write_text(value)
        except OSError as err:
            raise DeviceUnavailable(f"pilot PWM {path}: {err.strerror or err}") from err
