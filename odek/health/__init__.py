"""Health and metrics of the scheduler: the heartbeat file, its verdict (``odek health``),
Prometheus metrics and the optional ``/healthz`` + ``/metrics`` endpoint.

The names are loaded on first use, so that reading the configuration (which parses the
endpoint's address) or running ``odek health`` never imports the HTTP server or
prometheus-client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from odek.health.address import ListenAddress
    from odek.health.check import STALE_AFTER, HealthReport, check_health, evaluate
    from odek.health.heartbeat import (
        HEARTBEAT_FILE,
        Heartbeat,
        HeartbeatWriter,
        read_heartbeat,
    )
    from odek.health.http import HealthServer, health_child
    from odek.health.metrics import Metrics

__all__ = [
    "HEARTBEAT_FILE",
    "STALE_AFTER",
    "HealthReport",
    "HealthServer",
    "Heartbeat",
    "HeartbeatWriter",
    "ListenAddress",
    "Metrics",
    "check_health",
    "evaluate",
    "health_child",
    "read_heartbeat",
]

_HOMES = {
    "ListenAddress": "address",
    "STALE_AFTER": "check",
    "HealthReport": "check",
    "check_health": "check",
    "evaluate": "check",
    "HEARTBEAT_FILE": "heartbeat",
    "Heartbeat": "heartbeat",
    "HeartbeatWriter": "heartbeat",
    "read_heartbeat": "heartbeat",
    "HealthServer": "http",
    "health_child": "http",
    "Metrics": "metrics",
}


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'odek.health' has no attribute {name!r}")
    return getattr(importlib.import_module(f"odek.health.{module}"), name)
