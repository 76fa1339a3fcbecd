"""Which network addresses outbound HTTP steps may reach (public unicast only, unless private is allowed), and
the dial that connects a host only to the addresses checked for it."""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

import httpcore

# The well-known NAT64 prefix embeds an IPv4 address in its last 32 bits; a gateway translates it to that.
_NAT64_PREFIX = IPv6Network("64:ff9b::/96")
# Carrier-grade NAT space is neither "private" nor global in the ipaddress module's eyes.
_SHARED_ADDRESS_SPACE = IPv4Network("100.64.0.0/10")
# What an outbound call resolves names with: (host, port) -> its addresses. `resolve` by default; tests give
# their own to answer what a hostile DNS server would.
Resolver = Callable[[str, int], Awaitable[list[str]]]
# The host being connected and the addresses it was checked to resolve to, set by `pinned` around a send.
_PINNED: ContextVar[tuple[str, tuple[str, ...]] | None] = ContextVar("levqor_pinned_addresses", default=None)


def is_forbidden_address(address: IPv4Address | IPv6Address) -> bool:
    """True for any address that is not public unicast: private, loopback, link-local (cloud metadata
    169.254.169.254 included), multicast, reserved, unspecified, shared, and IPv6 forms that embed one
    of those IPv4 addresses (IPv4-mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return is_forbidden_address(address.ipv4_mapped)
        if address in _NAT64_PREFIX:
            return is_forbidden_address(IPv4Address(int(address) & 0xFFFFFFFF))
        tunnelled = _tunnelled_ipv4(address)
        if tunnelled is not None and is_forbidden_address(tunnelled):
            return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, IPv4Address) and address in _SHARED_ADDRESS_SPACE)
    )


def _tunnelled_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


async def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` (a name or a literal IP) resolves to, in the resolver's order.

    Raises `socket.gaierror` when the name does not resolve."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for _family, _type, _proto, _canonname, sockaddr in infos))


def first_forbidden_address(addresses: Iterable[str]) -> str | None:
    """The first of `addresses` the policy refuses (anything that is not an IP address included), or None
    when every one is allowed. Checking every address matters: a name may resolve to a public and a
    private address, and a client may connect to either."""
    for address in addresses:
        # IPv6 link-local answers carry a scope ("fe80::1%eth0"); the scope says nothing about the policy.
        text = address.split("%", 1)[0]
        try:
            parsed = ip_address(text)
        except ValueError:
            return address
        if is_forbidden_address(parsed):
            return text
    return None


@contextmanager
def pinned(host: str, addresses: Sequence[str]) -> Iterator[None]:
    """Within the block, connections that `PinnedDial` opens for `host` go to `addresses` only."""
    token = _PINNED.set((host, tuple(addresses)))
    try:
        yield
    finally:
        _PINNED.reset(token)


class PinnedDial(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects a host only to the addresses its caller checked and
    `pinned`, so a name is resolved once, for the check, and never again by the connection (a DNS answer
    that changes in between, "rebinding", cannot lead it to a private address). A connection for a host
    nobody pinned is refused. The URL keeps its host, so the Host header, TLS SNI and certificate check
    and the connection pool's key stay the name's. `dial` makes the actual connections."""

    def __init__(self, dial: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._dial = dial or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        pin = _PINNED.get()
        if pin is None or pin[0] != host or not pin[1]:
            raise httpcore.ConnectError(f"no checked address to connect {host} to")
        failure: Exception | None = None
        for address in pin[1]:
            try:
                return await self._dial.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                failure = err
        assert failure is not None  # the loop ran at least once
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("steps do not connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._dial.sleep(seconds)
