"""Who is the client: the direct peer, unless that peer is a proxy the operator trusts.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only when the
direct peer is in `FEEDBACK_TRUSTED_PROXIES`. Each trusted proxy appends the address it
received the request from; reading the chain from the right, the first address that is not a
trusted proxy is the client (anything to its left was written by that client, and may be
forged). uvicorn is told to trust no forwarding header (`feedback serve`), so the ASGI peer is
the socket's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from litestar.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# A longer chain than this is not a real deployment; stop reading rather than walk it all.
MAX_HOPS = 32
_XFF = b"x-forwarded-for"


def parse_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses and CIDRs as the operator writes them; ValueError names a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not an IP address or network (CIDR)") from exc
    return tuple(networks)


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it: bare, `[v6]`, or with a port (`v4:port`,
    `[v6]:port`); IPv4-mapped IPv6 becomes IPv4. None for anything else."""
    text = text.strip()
    if text.startswith("["):
        inside, closed, port = text[1:].partition("]")
        if not closed or (port and not port.startswith(":")):
            return None
        text = inside
    elif text.count(":") == 1:  # v4:port (a bare v6 has at least two colons)
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientAddress:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted = parse_networks(trusted_proxies)

    def _is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self._trusted)

    def resolve(self, peer: str | None, forwarded_for: Iterable[str]) -> str:
        """The client's address for the direct `peer` and the request's `X-Forwarded-For`
        header values (in order). The peer's own text when there is nothing to believe."""
        if peer is None:
            return "unknown"
        if not self._trusted:
            return peer
        hop = parse_address(peer)
        if hop is None or not self._is_trusted(hop):
            return peer
        chain = [part for value in forwarded_for for part in value.split(",")]
        for text in reversed(chain[-MAX_HOPS:]):
            address = parse_address(text)
            if address is None:
                # A trusted proxy passed on something unreadable: the client is unknown, so
                # the proxy itself stands for it (one shared budget, never one per forgery).
                break
            hop = address
            if not self._is_trusted(address):
                break
        return str(hop)

    def of_scope(self, scope: Scope) -> str:
        """The client of an ASGI request."""
        client = scope.get("client")
        if not self._trusted:  # the common case: nothing to parse
            return client[0] if client else "unknown"
        headers = scope["headers"]
        forwarded = [value.decode("latin-1") for name, value in headers if name == _XFF]
        return self.resolve(client[0] if client else None, forwarded)
