"""One device lifecycle for every HAL device (issue 16, DESIGN.md style 1): every backend in the
registry is a :class:`hal.device.Device` (``open``/``close``, ``async with``, backends implement
``_open``/``_close``) and none carries a second lifecycle beside it."""

from __future__ import annotations

import inspect

import pytest

from hal.backends import BACKENDS, load_backend
from hal.device import Device

REGISTERED = [(kind, name) for kind, names in BACKENDS.items() for name in names]


@pytest.mark.parametrize(("kind", "name"), REGISTERED)
def test_every_registered_backend_has_the_one_device_lifecycle(kind: str, name: str) -> None:
    cls = load_backend(kind, name)
    assert issubclass(cls, Device), f"{kind} backend {name!r}: {cls.__name__} is not a hal.device.Device"
    assert not inspect.isabstract(cls), f"{cls.__name__} leaves {sorted(cls.__abstractmethods__)} unimplemented"
    second = [attr for attr in ("connect", "disconnect", "_connect", "_disconnect") if hasattr(cls, attr)]
    assert second == [], f"{kind} backend {name!r}: {cls.__name__} has a second lifecycle: {second}"
