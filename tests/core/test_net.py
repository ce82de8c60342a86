"""linli/core/net.py: the client address is believed from X-Forwarded-For only via a trusted proxy."""

from __future__ import annotations

import pytest

from linli.core.net import client_ip_from

PROXY = ("10.0.0.0/8",)


@pytest.mark.parametrize(
    ("remote", "xff", "trusted", "expected"),
    [
        ("203.0.113.5", None, (), "203.0.113.5"),
        # no trusted proxy configured: a client's header is ignored
        ("203.0.113.5", "1.2.3.4", (), "203.0.113.5"),
        # a header from an untrusted peer is ignored
        ("203.0.113.5", "1.2.3.4", PROXY, "203.0.113.5"),
        # via the proxy: the address the proxy saw
        ("10.0.0.2", "198.51.100.7", PROXY, "198.51.100.7"),
        # a client cannot choose its address by writing the header itself
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", PROXY, "198.51.100.7"),
        # two trusted hops
        ("10.0.0.2", "198.51.100.7, 10.0.0.9", PROXY, "198.51.100.7"),
        # garbage in the header: the peer
        ("10.0.0.2", "not-an-ip", PROXY, "10.0.0.2"),
        ("10.0.0.2", "", PROXY, "10.0.0.2"),
        ("", None, PROXY, None),
        ("2001:db8::1", None, PROXY, "2001:db8::1"),
    ],
)
def test_client_ip_from(remote: str, xff: str | None, trusted: tuple[str, ...], expected: str | None) -> None:
    assert client_ip_from(remote, xff, trusted) == expected
