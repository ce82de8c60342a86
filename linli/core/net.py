"""The client's address, as far as it can be trusted (Django-free apart from reading settings).

Behind a reverse proxy every request comes from the proxy's address; the client's address is in
``X-Forwarded-For``. That header is believed only when the request came from an address listed in
``LINLI_TRUSTED_PROXIES`` (comma-separated addresses or CIDR networks, e.g. ``127.0.0.1,10.0.0.0/8``;
empty by default = no proxy is trusted and REMOTE_ADDR is the client). The header is read from the
right: each hop appends the address it saw, so the first address from the right that is not a
trusted proxy is the client. Anything a client writes further left is ignored, so a client cannot
choose its own address (and with it its rate-limit bucket or lockout key).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_ip_from(remote_addr: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str | None:
    """The client address from the peer address and the X-Forwarded-For header (pure)."""
    remote = (remote_addr or "").strip()
    if not remote or not _valid(remote):
        return None
    networks = _networks(trusted)
    if not networks or not _trusted(remote, networks) or not forwarded_for:
        return remote
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _valid(hop):
            return remote  # a malformed hop: believe nothing further left
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else remote


def client_ip(request: Any) -> str | None:
    """The client address of a Django (or DRF) request; None when there is none."""
    meta = request.META
    trusted = tuple(getattr(settings, "LINLI_TRUSTED_PROXIES", ()) or ())
    return client_ip_from(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"), trusted)
