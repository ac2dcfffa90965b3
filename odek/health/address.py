"""The listen address of the health and metrics endpoint (``schedules.http_addr``)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = ["LOOPBACK", "ListenAddress"]

LOOPBACK = "127.0.0.1"
"""Where the endpoint listens when the address names only a port."""


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """A host (name or IP address, IPv6 without brackets) and a TCP port."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> ListenAddress:
        """Read ``"port"``, ``":port"``, ``"host:port"`` or ``"[ipv6]:port"``.

        A bare port (``9090``, ``:9090``) means the loopback address, so that turning the
        endpoint on never exposes it by accident. Raises :class:`ValueError` whose message
        begins with ``expected`` and quotes the text."""
        value = text.strip()
        host, sep, port_text = value.rpartition(":")
        if not sep:
            host, port_text = "", value
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            if not _is_ipv6(host):
                raise ValueError(f"expected an IPv6 address in brackets, got {text!r}")
        elif ":" in host:
            raise ValueError(f"expected an IPv6 address in brackets ([::1]:9090), got {text!r}")
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"expected host:port or a port (1-65535), got {text!r}")
        if any(c.isspace() or c in "/[]@" for c in host):
            raise ValueError(f"expected a host name or IP address before the port, got {text!r}")
        return cls(host or LOOPBACK, int(port_text))

    @property
    def is_loopback(self) -> bool:
        """Whether only this machine (or container) can connect."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False
