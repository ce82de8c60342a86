"""linli/core/sms.py: the backend comes from LINLI_SMS_BACKEND; the console backend (demo) never
prints or logs a phone number in clear."""

from __future__ import annotations

import logging

import pytest

from linli.core import sms


def test_locmem_backend_keeps_messages(settings):
    settings.LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"
    sms.LocmemBackend.outbox.clear()
    sms.send("13800138000", "code 123456")
    assert sms.LocmemBackend.outbox == [("13800138000", "code 123456")]
    sms.LocmemBackend.outbox.clear()


def test_console_backend_masks_the_phone(settings, capsys, caplog):
    settings.LINLI_SMS_BACKEND = "linli.core.sms.ConsoleBackend"
    with caplog.at_level(logging.INFO, logger="linli.sms"):
        sms.send("13800138000", "验证码 654321")
    out = capsys.readouterr().out
    assert "138****8000" in out and "654321" in out and "13800138000" not in out
    assert "13800138000" not in caplog.text and "138****8000" in caplog.text


def test_no_phone_is_refused(settings):
    settings.LINLI_SMS_BACKEND = "linli.core.sms.LocmemBackend"
    with pytest.raises(sms.SmsError):
        sms.send("", "x")


def test_a_refusing_gateway_surfaces_as_sms_error(settings):
    settings.LINLI_SMS_BACKEND = "tests.core.test_sms.Refusing"
    with pytest.raises(sms.SmsError):
        sms.send("13800138000", "x")


class Refusing:
    def send(self, phone: str, text: str) -> None:
        raise sms.SmsError("gateway said no")
