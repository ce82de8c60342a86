"""WeChat subscription messages (订阅消息): one small interface, the backend chosen by a setting —
the same shape as ``linli.core.sms``.

    from linli.notify import wechat
    wechat.send(openid, template_id, page, data)   # → the backend named by LINLI_WECHAT_BACKEND

``LINLI_WECHAT_BACKEND`` is a dotted path to a class with ``send(openid, template_id, page, data)``:

* ``linli.notify.wechat.ConsoleBackend`` (the default, and the demo's): nothing leaves the machine;
  the message is written to the ``linli.wechat`` logger and stdout, the openid shortened;
* ``linli.notify.wechat.LocmemBackend`` (tests): keeps every message in ``LocmemBackend.outbox``;
* a deployment writes its own class for the mini program's ``subscribeMessage.send`` call and names
  it in the setting. What it receives (docs/notifications.md, "WeChat"):

  - ``openid``: the person's openid for the mini program (``Preference.wechat_openid``);
  - ``template_id``: the subscription template chosen in the mini program's console
    (``LINLI_WECHAT_TEMPLATE_ID``), which the person agreed to receive (``wx.requestSubscribeMessage``);
  - ``page``: the mini program page to open, ``LINLI_WECHAT_PAGE`` + ``?url=`` + the Linli path;
  - ``data``: ``{"thing1": {"value": title}, "time2": {"value": "2026-05-01 09:30"},
    "thing3": {"value": body}}`` — ``thing`` values are cut to 20 characters as WeChat requires.

  It must raise ``WechatError`` when the message was not accepted (an ``errcode`` other than 0,
  e.g. 43101 "the user refused"); the delivery is then retried with backoff and logged.
"""

from __future__ import annotations

import logging
import sys
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("linli.wechat")

DEFAULT_BACKEND = "linli.notify.wechat.ConsoleBackend"

Data = dict[str, dict[str, str]]


class WechatError(Exception):
    """The backend did not accept the message."""


class Backend(Protocol):
    def send(self, openid: str, template_id: str, page: str, data: Data) -> None: ...


def _short(openid: str) -> str:
    return openid[:4] + "…" if len(openid) > 4 else "…"


class ConsoleBackend:
    """Development and demo: prints the message (openid shortened) instead of sending it."""

    def send(self, openid: str, template_id: str, page: str, data: Data) -> None:
        values = " | ".join(v.get("value", "") for v in data.values())
        line = f"[WeChat → {_short(openid)} {template_id or '-'} {page}] {values}"
        log.info(line)
        print(line, file=sys.stdout, flush=True)


class LocmemBackend:
    """Tests: keeps (openid, template_id, page, data) in memory; clear ``outbox`` between tests."""

    outbox: ClassVar[list[tuple[str, str, str, Data]]] = []

    def send(self, openid: str, template_id: str, page: str, data: Data) -> None:
        LocmemBackend.outbox.append((openid, template_id, page, data))


def backend() -> Backend:
    path = getattr(settings, "LINLI_WECHAT_BACKEND", "") or DEFAULT_BACKEND
    backend: Backend = import_string(path)()
    return backend


def send(openid: str, template_id: str, page: str, data: Data) -> None:
    """Send one subscription message through the configured backend (raises ``WechatError``)."""
    if not openid:
        raise WechatError("no openid")
    backend().send(openid, template_id, page, data)
