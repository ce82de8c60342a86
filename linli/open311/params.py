"""What an Open311 client sent, read once and checked before anything uses it (docs/open311.md,
"Parameters").

Every parameter of a query string or form body passes through here, so that no input reaches the
database or a conversion it cannot survive (issue 9: a NUL byte is refused by PostgreSQL, a
multipart body without a boundary cannot be parsed, a charset Python does not know cannot be
decoded):

* **Control characters** (U+0000–U+001F except tab, line feed and carriage return, U+007F–U+009F)
  are *removed* from free text — ``description``, ``address_string``, ``first_name``,
  ``last_name``, ``device_id``, ``account_id`` and attribute values — where they carry no meaning
  (a kiosk's badly terminated string must not lose a report), and *refused* (400, naming the
  parameter) in every other parameter and in parameter names: codes, keys, ids, dates, numbers,
  e-mail, URLs, where silently changing the value would make it mean something else.
* **Repeated parameters**: a parameter that takes one value, sent twice with different values, is a
  400 ("send it once"); the list filters of GET requests (``service_request_id``, ``service_code``,
  ``status``) and multi-value attributes (``attribute[code][]``) may repeat.
* **Bodies**: a POST is ``application/x-www-form-urlencoded`` or ``multipart/form-data`` (with its
  boundary); a form-encoded body is UTF-8 (Django reads no other), a multipart one in a charset
  Python knows; anything else is a 400 saying so.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, UnreadablePostError
from django.http.multipartparser import MultiPartParserError

from linli.open311.services import Open311Error

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FREE_TEXT = frozenset({"description", "address_string", "first_name", "last_name", "device_id", "account_id"})
QUERY_LISTS = frozenset({"service_request_id", "service_code", "status"})  # GET requests' list filters
MAX_NAME = 100  # characters of a parameter name


def _shown(name: str) -> str:
    return CONTROL.sub("?", name)[:40]


def _free(name: str) -> bool:
    return name in FREE_TEXT or name.startswith("attribute[")


class Params:
    """The parameters of one part of a request (query string or body): a mapping of name → values
    with the QueryDict methods the views use (``get``, ``getlist``, ``lists``)."""

    def __init__(self, data: dict[str, list[str]], lists: frozenset[str] = frozenset()) -> None:
        self._data = data
        self._lists = lists

    @classmethod
    def of(cls, query: Any, lists: frozenset[str] = frozenset()) -> Params:
        data: dict[str, list[str]] = {}
        for name, values in query.lists():
            if CONTROL.search(name) or len(name) > MAX_NAME:
                raise Open311Error(
                    400,
                    (
                        f"参数名 {_shown(name)} 含控制字符或过长。",
                        f"The parameter name {_shown(name)} contains a control character or is too long.",
                    ),
                )
            if _free(name):
                values = [CONTROL.sub("", v) for v in values]
            elif any(CONTROL.search(v) for v in values):
                raise Open311Error(
                    400,
                    (
                        f"参数 {name} 含控制字符(如 NUL),请去掉后重试。",
                        f"The parameter {name} contains a control character (e.g. NUL); remove it.",
                    ),
                )
            data[name] = list(values)
        return cls(data, lists)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._data.get(name)
        if not values:
            return default
        if name not in self._lists and not name.endswith("[]") and len(set(values)) > 1:
            raise Open311Error(
                400,
                (f"参数 {name} 只能提供一次。", f"The parameter {name} takes one value: send it once."),
            )
        return values[-1]

    def getlist(self, name: str) -> list[str]:
        return list(self._data.get(name, []))

    def lists(self) -> Iterator[tuple[str, list[str]]]:
        yield from ((k, list(v)) for k, v in self._data.items())

    def __contains__(self, name: object) -> bool:
        return name in self._data


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def query(request: HttpRequest) -> Params:
    return Params.of(request.GET, QUERY_LISTS)


def body(request: HttpRequest) -> Params:
    """The form body of a POST, or a 400 that says what is wrong with it."""
    content_type = (request.content_type or "").lower()
    if content_type and content_type not in FORM_TYPES:
        raise Open311Error(
            400,
            (
                f"请求内容类型 {content_type[:60]} 不受支持:"
                "请用 application/x-www-form-urlencoded 或 multipart/form-data。",
                f"Content type {content_type[:60]} is not supported: send application/x-www-form-urlencoded "
                "or multipart/form-data.",
            ),
        )
    charset = (request.content_params or {}).get("charset", "")
    if charset:
        try:
            known = codecs.lookup(charset).name
        except LookupError:
            known = ""
        if not known or (content_type == FORM_TYPES[0] and known != "utf-8"):
            raise Open311Error(
                400,
                (
                    f"不支持的字符集 charset={charset[:40]}:请用 UTF-8。",
                    f"The charset {charset[:40]} is not supported: send UTF-8.",
                ),
            )
    if content_type == "multipart/form-data" and not (request.content_params or {}).get("boundary"):
        raise Open311Error(
            400,
            (
                "multipart/form-data 请求缺少 boundary 参数。",
                "The multipart/form-data body has no boundary parameter in its Content-Type.",
            ),
        )
    try:
        post = request.POST
    except MultiPartParserError as exc:
        raise Open311Error(
            400, ("multipart 请求体无法解析。", f"The multipart body could not be parsed: {str(exc)[:100]}")
        ) from exc
    except (TooManyFieldsSent, TooManyFilesSent) as exc:
        raise Open311Error(400, ("请求参数过多。", "The body has too many parameters.")) from exc
    except RequestDataTooBig as exc:
        raise Open311Error(400, ("请求体过大。", "The body is too large.")) from exc
    except (BadRequest, UnicodeDecodeError, UnreadablePostError) as exc:
        raise Open311Error(
            400, ("请求体无法按所给字符集解码。", "The body could not be decoded in its charset (send UTF-8).")
        ) from exc
    return Params.of(post)
