"""The client address: forwarding headers are believed only from trusted proxies."""

from __future__ import annotations

import pytest

from feedback.api.client_address import ClientAddress, parse_address, parse_networks

PROXIES = ClientAddress(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"])


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    nobody = ClientAddress([])
    assert nobody.resolve("127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"
    assert nobody.resolve(None, ["203.0.113.9"]) == "unknown"


def test_a_header_from_an_untrusted_peer_is_ignored() -> None:
    assert PROXIES.resolve("198.51.100.1", ["203.0.113.9"]) == "198.51.100.1"
    # The peer's text is used as it is, even when it is no address (the test client's).
    assert PROXIES.resolve("testclient", ["203.0.113.9"]) == "testclient"


def test_the_right_most_untrusted_address_is_the_client() -> None:
    assert PROXIES.resolve("10.1.2.3", ["203.0.113.9"]) == "203.0.113.9"
    # Forged entries to the left of what our proxies appended change nothing.
    forged = ["1.1.1.1, 2.2.2.2, 203.0.113.9, 10.9.9.9"]
    assert PROXIES.resolve("10.1.2.3", forged) == "203.0.113.9"
    # Several headers are one list, in order.
    assert PROXIES.resolve("10.1.2.3", ["1.1.1.1", "203.0.113.9, 192.0.2.7"]) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_only_gives_its_left_most() -> None:
    assert PROXIES.resolve("10.1.2.3", ["10.4.4.4, 192.0.2.7"]) == "10.4.4.4"
    assert PROXIES.resolve("10.1.2.3", []) == "10.1.2.3"


def test_ipv6_and_ports() -> None:
    assert PROXIES.resolve("2001:db8::1", ["2001:DB8:0:0::99, 2a00:1450::5"]) == "2a00:1450::5"
    assert PROXIES.resolve("2001:db8::1", ["[2a00:1450::5]:443"]) == "2a00:1450::5"
    assert PROXIES.resolve("10.0.0.1", ["203.0.113.9:5678"]) == "203.0.113.9"
    # An IPv4 peer written as IPv4-mapped IPv6 is the same peer.
    assert PROXIES.resolve("::ffff:10.0.0.1", ["203.0.113.9"]) == "203.0.113.9"
    assert parse_address("::ffff:203.0.113.9") == parse_address("203.0.113.9")


@pytest.mark.parametrize(
    "header", ["garbage", "", " , ", "300.1.1.1", "unknown", "1.2.3.4\x00", "[::1", "x" * 10_000]
)
def test_garbage_from_a_trusted_proxy_stands_for_the_proxy(header: str) -> None:
    assert PROXIES.resolve("10.1.2.3", [header]) == "10.1.2.3"
    # ...also behind a valid hop appended by another trusted proxy.
    assert PROXIES.resolve("10.1.2.3", [f"{header}, 10.5.5.5"]) == "10.5.5.5"


def test_a_very_long_chain_is_cut() -> None:
    chain = ", ".join(["10.0.0.1"] * 10_000)
    assert PROXIES.resolve("10.1.2.3", [chain]) == "10.0.0.1"


def test_bad_proxy_settings_name_the_entry() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        parse_networks(["10.0.0.0/8", "10.0.0.300"])
    assert parse_networks([" 10.0.0.1/8 "])[0].prefixlen == 8
