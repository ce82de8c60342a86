"""Fixtures of the notification tests: in-memory SMS and WeChat backends, emptied for every test."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core.sms import LocmemBackend as SmsOutbox
from linli.notify.wechat import LocmemBackend as WechatOutbox


@pytest.fixture(autouse=True)
def outboxes(settings: Any) -> Any:
    settings.LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"
    settings.LINLI_WECHAT_BACKEND = "linli.notify.wechat.LocmemBackend"
    settings.LINLI_WECHAT_TEMPLATE_ID = "tmpl-1"
    SmsOutbox.outbox.clear()
    WechatOutbox.outbox.clear()
    yield SmsOutbox.outbox, WechatOutbox.outbox
    SmsOutbox.outbox.clear()
    WechatOutbox.outbox.clear()


class FailingSms:
    """An SMS gateway that refuses every message (the retry tests)."""

    calls = 0

    def send(self, phone: str, text: str) -> None:
        FailingSms.calls += 1
        from linli.core.sms import SmsError

        raise SmsError("gateway said no (test)")
