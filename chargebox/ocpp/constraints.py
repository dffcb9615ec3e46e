"""The specification's constraints on a field beyond its Python type, carried in ``Annotated`` hints on the
message dataclasses, so that one description gives both the typed message and its JSON schema
(:mod:`chargebox.ocpp.schemas`). Section numbers are OCPP 1.6's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated


@dataclass(frozen=True, slots=True)
class CiString:
    """A case-insensitive string of at most ``max_length`` characters (7.15-7.19)."""

    max_length: int


@dataclass(frozen=True, slots=True)
class DecimalPlaces:
    """A decimal number with at most ``places`` digits after the point (7.13, 7.14: "decimal with
    one digit fraction"); an ``int`` on the wire is a decimal too."""

    places: int


@dataclass(frozen=True, slots=True)
class AnyUri:
    """A URI: the ``location`` of GetDiagnostics.req and UpdateFirmware.req (anyURI)."""


@dataclass(frozen=True, slots=True)
class MinItems:
    """A list of at least ``count`` items (cardinality 1..* in the spec's tables), hence required."""

    count: int


CiString20 = Annotated[str, CiString(20)]
CiString25 = Annotated[str, CiString(25)]
CiString50 = Annotated[str, CiString(50)]
CiString255 = Annotated[str, CiString(255)]
CiString500 = Annotated[str, CiString(500)]
IdToken = CiString20  # 7.28
Decimal1 = Annotated[float, DecimalPlaces(1)]
Uri = Annotated[str, AnyUri()]
