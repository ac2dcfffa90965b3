"""``schedules.http_addr``: what a listen address may look like, and what it means."""

from __future__ import annotations

from pathlib import Path

import pytest

from odek.config import load_config
from odek.errors import ConfigError
from odek.health import ListenAddress


@pytest.mark.parametrize(
    ("text", "host", "port", "shown"),
    [
        ("9090", "127.0.0.1", 9090, "127.0.0.1:9090"),
        (":9090", "127.0.0.1", 9090, "127.0.0.1:9090"),
        (" 0.0.0.0:9464 ", "0.0.0.0", 9464, "0.0.0.0:9464"),
        ("localhost:8081", "localhost", 8081, "localhost:8081"),
        ("[::1]:9090", "::1", 9090, "[::1]:9090"),
        ("[::]:9090", "::", 9090, "[::]:9090"),
        ("odek.internal:65535", "odek.internal", 65535, "odek.internal:65535"),
    ],
)
def test_listen_addresses_that_parse(text: str, host: str, port: int, shown: str) -> None:
    address = ListenAddress.parse(text)
    assert (address.host, address.port, str(address)) == (host, port, shown)
    assert ListenAddress.parse(str(address)) == address


@pytest.mark.parametrize(
    "text",
    ["", "http", "host:", "host:0", "host:65536", "host:http", "::1:9090", "[odek]:90", "a b:90"],
)
def test_listen_addresses_that_do_not(text: str) -> None:
    with pytest.raises(ValueError, match=r"^expected") as caught:
        ListenAddress.parse(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "loopback"),
    [("9090", True), ("localhost:1", True), ("[::1]:1", True), ("0.0.0.0:1", False)],
)
def test_only_loopback_addresses_are_private(text: str, loopback: bool) -> None:
    assert ListenAddress.parse(text).is_loopback is loopback


def test_the_endpoint_is_off_unless_configured(tmp_path: Path, odek_home: Path) -> None:
    config = load_config(cwd=tmp_path, environ={"ODEK_HOME": str(odek_home)})
    assert config.schedules.http_addr == ""


def test_a_bare_port_in_config_means_loopback(tmp_path: Path, odek_home: Path) -> None:
    environ = {"ODEK_HOME": str(odek_home), "ODEK_HTTP_ADDR": "9090"}
    assert load_config(cwd=tmp_path, environ=environ).schedules.http_addr == "127.0.0.1:9090"


def test_a_bad_address_in_config_names_the_variable(tmp_path: Path, odek_home: Path) -> None:
    environ = {"ODEK_HOME": str(odek_home), "ODEK_HTTP_ADDR": "::1:9090"}
    with pytest.raises(ConfigError, match="ODEK_HTTP_ADDR: expected an IPv6 address in brackets"):
        load_config(cwd=tmp_path, environ=environ)
