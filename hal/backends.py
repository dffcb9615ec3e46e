"""The backend registry: device kind -> backend name -> "module:Class", imported lazily.

Backends are chosen by the site config and may be injected in code and tests (DESIGN.md, style 2-3).
A backend's options are the keyword arguments of its class; :func:`check_options` validates a config
table against that signature without opening any device, so ``chargebox check-config`` can report
every bad key before the daemon touches hardware. A backend class may add a classmethod
``check(options) -> [(key, problem)]`` for values with a syntax of their own (GPIO pin names).
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from typing import Any

from hal.errors import BackendUnavailable

BACKENDS: dict[str, dict[str, str]] = {
    "reader": {
        "hexline": "hal.rfid.hexline:HexLineReader",
        "rdm6300": "hal.rfid.rdm6300:Rdm6300Reader",
        "pn532": "hal.rfid.pn532:Pn532Reader",
    },
    "meter": {
        "modbus": "hal.meter.modbus:ModbusMeter",
    },
    "pilot": {
        "sim": "hal.simwire:SimPilot",
        "sysfs": "hal.pilot.sysfs:SysfsPilot",
    },
    "relay": {
        "sim": "hal.simwire:SimRelay",
        "gpiod": "hal.gpio.devices:GpioRelay",
        "rpigpio": "hal.gpio.devices:RpiGpioRelay",
    },
    "lock": {
        "sim": "hal.simwire:SimLock",
        "gpiod": "hal.gpio.devices:GpioLock",
        "rpigpio": "hal.gpio.devices:RpiGpioLock",
    },
    "protection": {
        "sim": "hal.simwire:SimProtection",
        "gpiod": "hal.gpio.devices:GpioProtection",
        "rpigpio": "hal.gpio.devices:RpiGpioProtection",
    },
    "modem": {
        "at": "hal.modem.at:AtModem",
    },
}


def backend_names(kind: str) -> list[str]:
    """The backend names known for a device kind."""
    return sorted(BACKENDS.get(kind, {}))


def load_backend(kind: str, name: str) -> type[Any]:
    """Import and return the class of backend ``name`` for device ``kind``.

    Raises :class:`KeyError` for an unknown kind or name, and :class:`BackendUnavailable` when the
    backend's library cannot be imported on this machine.
    """
    target = BACKENDS[kind][name]
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise BackendUnavailable(f"{kind} backend {name!r} needs a library that is missing: {err}") from err
    except RuntimeError as err:  # RPi.GPIO raises RuntimeError when imported off a Pi
        raise BackendUnavailable(f"{kind} backend {name!r} does not work on this board: {err}") from err
    cls: type[Any] = getattr(module, class_name)
    return cls


_SCALARS: dict[type, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (int, float),
    bool: (bool,),
}


def _accepts(annotation: Any, value: Any) -> bool:
    """Whether a TOML value fits a constructor annotation (str, int, float, bool, X | None, list[X])."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin in (list, tuple):
        (item, *_) = typing.get_args(annotation) or (Any,)
        return isinstance(value, list) and all(_accepts(item, v) for v in value)
    if annotation in _SCALARS:
        if isinstance(value, bool) and annotation is not bool:
            return False
        return isinstance(value, _SCALARS[annotation])
    return True


def _describe(annotation: Any) -> str:
    if isinstance(annotation, type):
        return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
            annotation, annotation.__name__
        )
    return str(annotation).replace("typing.", "")


def check_options(kind: str, name: str, options: dict[str, Any]) -> list[tuple[str, str]]:
    """Check a backend's options against its constructor; return ``(key, problem)`` pairs.

    ``options`` excludes the ``backend`` key itself. Nothing is opened or connected.
    """
    if name not in BACKENDS.get(kind, {}):
        known = ", ".join(backend_names(kind)) or "none"
        return [("backend", f"unknown {kind} backend {name!r}; expected one of: {known}")]
    try:
        cls = load_backend(kind, name)
    except BackendUnavailable as err:
        return [("backend", str(err))]
    params = inspect.signature(cls.__init__).parameters
    hints = typing.get_type_hints(cls.__init__)
    problems: list[tuple[str, str]] = []
    accepted = {p for p in params if p != "self" and params[p].kind is inspect.Parameter.KEYWORD_ONLY}
    accepted |= {p for p in params if p != "self" and params[p].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD}
    accepted -= set(getattr(cls, "INJECTED", ()))
    for key, value in options.items():
        if key not in accepted:
            problems.append((key, f"unknown option for {kind} backend {name!r}; expected one of: "
                                  f"{', '.join(sorted(accepted))}"))
        elif not _accepts(hints.get(key, inspect.Parameter.empty), value):
            problems.append((key, f"expected {_describe(hints[key])}, got {value!r}"))
    for key in sorted(accepted - set(options)):
        if params[key].default is inspect.Parameter.empty:
            problems.append((key, f"missing; {kind} backend {name!r} needs it"))
    # Backends whose option values have a syntax of their own (GPIO pin names) check it here.
    check = getattr(cls, "check", None)
    if callable(check):
        reported = {key for key, _ in problems}
        problems += [(key, problem) for key, problem in check(options) if key not in reported]
    return problems
