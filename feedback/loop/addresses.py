"""Where a webhook may point: never at the instance's own network (SSRF).

A URL is checked when it is subscribed and again at every delivery, on the addresses its host
resolves to then (a name may resolve elsewhere later: DNS rebinding). The delivery connects to
an address this module approved, never resolves the name a second time (feedback.loop.delivery).

A URL is stored as it is sent (`sendable`): a request line and a `Host` header are ASCII, so a
host outside ASCII is written in IDNA and any other character outside ASCII percent-encoded as
UTF-8, as browsers do. The address check then sees the very host the delivery connects to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

MAX_URL_CHARS = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


@dataclass(frozen=True, slots=True)
class Target:
    """A webhook URL taken apart: where to connect, and what to call the host."""

    scheme: str
    host: str
    port: int
    # Path and query as sent in the request line.
    target: str


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook URL (shape only, no DNS), or None."""
    if len(url) > MAX_URL_CHARS:
        return f"must be at most {MAX_URL_CHARS} characters"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an absolute http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials"
    try:
        sent = sendable(url)
    except ValueError as exc:
        return str(exc)
    if len(sent) > MAX_URL_CHARS:
        return f"must be at most {MAX_URL_CHARS} characters once written in ASCII"
    return None


def sendable(url: str) -> str:
    """`url` written in ASCII, as it is sent: a host outside ASCII in IDNA (`xn--…`), every other
    character outside ASCII percent-encoded as UTF-8. An ASCII URL is returned unchanged.
    Raises ValueError (its message says why, in the words of `url_problem`)."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    host = parts.hostname or ""
    if not host.isascii():
        if ":" in host:  # an IPv6 literal is ASCII, its zone included
            raise ValueError("is not a valid URL")
        try:
            # The standard codec (IDNA 2003, as the resolver itself encodes names); it refuses
            # empty or overlong labels.
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("must name a valid host") from None
        # Credentials were refused before (url_problem): the location is the host and port.
        netloc = ascii_host if parts.port is None else f"{ascii_host}:{parts.port}"
    try:
        return urlunsplit(
            parts._replace(
                netloc=netloc,
                path=_percent_encoded(parts.path),
                query=_percent_encoded(parts.query),
                fragment=_percent_encoded(parts.fragment),
            )
        )
    except UnicodeError:  # a lone surrogate has no UTF-8
        raise ValueError("is not a valid URL") from None


def _percent_encoded(text: str) -> str:
    """Characters outside ASCII as UTF-8 percent escapes; ASCII, escapes included, as is."""
    return "".join(c if c.isascii() else quote(c, safe="") for c in text)


def target_of(url: str) -> Target:
    """Where `url` is sent. A URL stored before subscription wrote it in ASCII is written so
    here; raises ValueError when it cannot be."""
    parts: SplitResult = urlsplit(sendable(url))
    assert parts.hostname is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, target)


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not reach `address`, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    for kind, test in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if test:
            return f"{address} is a {kind} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (a literal address: itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"{host} does not resolve") from exc
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise RefusedAddress(f"{host} does not resolve")
    return found


async def allowed_addresses(target: Target, *, allow_private: bool) -> list[IPAddress]:
    """The addresses to connect to: all the host resolves to, each checked; refused when any
    is forbidden (one bad answer among good ones is how rebinding attacks start)."""
    addresses = await resolve(target.host, target.port)
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                raise RefusedAddress(f"{target.host} resolves to {reason}")
    return addresses
