"""Sending a text message (SMS): one small interface, the backend chosen by a setting.

    from linli.core import sms
    sms.send(phone, text)           # → the backend named by settings.LINLI_SMS_BACKEND

``LINLI_SMS_BACKEND`` is a dotted path to a class with ``send(phone, text)``:

* ``linli.core.sms.ConsoleBackend`` (the default, and the demo's): nothing leaves the machine; the
  text is written to the ``linli.sms`` logger and to stdout with the phone number **masked**, so a
  developer can read a one-time code in the ``make run`` terminal;
* ``linli.core.sms.LocmemBackend`` (tests): keeps every message in ``LocmemBackend.outbox``;
* a deployment writes its own class for its SMS gateway (e.g. an operator's HTTP API) and names it
  in ``LINLI_SMS_BACKEND``. It must raise ``SmsError`` when the message was not accepted, so the
  caller can tell the person and write nothing.

A phone number never appears in clear text in a log line (rules.md §6).
"""

from __future__ import annotations

import logging
import sys
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from linli.core.masking import mask_phone

log = logging.getLogger("linli.sms")

DEFAULT_BACKEND = "linli.core.sms.ConsoleBackend"


class SmsError(Exception):
    """The backend did not accept the message."""


class Backend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleBackend:
    """Development and demo: prints the message (phone masked) instead of sending it."""

    def send(self, phone: str, text: str) -> None:
        line = f"[SMS → {mask_phone(phone)}] {text}"
        log.info(line)
        print(line, file=sys.stdout, flush=True)


class LocmemBackend:
    """Tests: keeps (phone, text) pairs in memory; ``LocmemBackend.outbox.clear()`` between tests."""

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, phone: str, text: str) -> None:
        LocmemBackend.outbox.append((phone, text))


def backend() -> Backend:
    path = getattr(settings, "LINLI_SMS_BACKEND", "") or DEFAULT_BACKEND
    cls = import_string(path)
    backend: Backend = cls()
    return backend


def send(phone: str, text: str) -> None:
    """Send ``text`` to ``phone`` through the configured backend (raises ``SmsError`` on refusal)."""
    if not phone:
        raise SmsError("no phone number")
    backend().send(phone, text)
