"""Which network addresses outbound HTTP steps may reach: public unicast only, unless private is allowed."""

import asyncio
import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

# The well-known NAT64 prefix embeds an IPv4 address in its last 32 bits; a gateway translates it to that.
_NAT64_PREFIX = IPv6Network("64:ff9b::/96")
# Carrier-grade NAT space is neither "private" nor global in the ipaddress module's eyes.
_SHARED_ADDRESS_SPACE = IPv4Network("100.64.0.0/10")


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


async def first_forbidden_address(host: str, port: int) -> str | None:
    """Resolves `host` (a name or a literal IP) and returns the first resolved address the policy refuses,
    or None when every address is allowed. Checking every address matters: a name may resolve to a public
    and a private address, and the client may connect to either.

    Raises `socket.gaierror` when the name does not resolve."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for _family, _type, _proto, _canonname, sockaddr in infos:
        # IPv6 link-local answers carry a scope ("fe80::1%eth0"); the scope says nothing about the policy.
        text = str(sockaddr[0]).split("%", 1)[0]
        if is_forbidden_address(ip_address(text)):
            return text
    return None
