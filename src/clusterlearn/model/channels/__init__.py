"""Registry of learning channels, in the order a step applies them.

Adding a channel is one new module plus one line in ``_MODULES``; no other channel changes.
Each channel gets its own random stream by its position here, so switching one channel off
leaves the draws of the others unchanged (common random numbers).
"""

from __future__ import annotations

import importlib

from clusterlearn.model.channels.base import Channel, ChannelOutput, ChannelParams

_MODULES = [
    "informal",  # C1
    "cooperation",  # C2
    "mobility",  # C3
    "spinoff",  # C4
    "imitation",  # C5
    "training",  # A1
    "personnel",  # A2
    "infrastructure",  # A3
    "events",  # A4
    "services",  # A5
    "outward",  # X1
]

REGISTRY: dict[str, type[Channel]] = {}


def register(cls: type[Channel]) -> type[Channel]:
    """Class decorator that registers a channel under its ``name``."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"channel name {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


for _m in _MODULES:
    importlib.import_module(f"clusterlearn.model.channels.{_m}")


def channels() -> list[type[Channel]]:
    """The registered channel classes in application order."""
    return list(REGISTRY.values())


def by_code() -> dict[str, type[Channel]]:
    return {c.code: c for c in REGISTRY.values()}


__all__ = [
    "REGISTRY",
    "Channel",
    "ChannelOutput",
    "ChannelParams",
    "by_code",
    "channels",
    "register",
]
