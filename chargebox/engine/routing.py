"""Routing of Central System requests to handlers (DESIGN.md, style 7).

``@handles(SomeRequest)`` only tags a method; :func:`routes` builds the map per instance, so two
charge points in one process never share a route table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from chargebox.ocpp.messages import Confirmation, Request

F = TypeVar("F", bound=Callable[..., Awaitable[Confirmation]])
_TAG = "_ocpp_handles"


def handles(request_type: type[Request]) -> Callable[[F], F]:
    def tag(method: F) -> F:
        setattr(method, _TAG, request_type)
        return method

    return tag


def routes(instance: Any) -> dict[type[Request], Callable[[Any], Awaitable[Confirmation]]]:
    """The tagged bound methods of ``instance``, by the request type each handles."""
    table: dict[type[Request], Callable[[Any], Awaitable[Confirmation]]] = {}
    for name in dir(type(instance)):
        request_type = getattr(getattr(type(instance), name), _TAG, None)
        if request_type is not None:
            table[request_type] = getattr(instance, name)
    return table
