"""API plumbing shared by every app: one error shape, bilingual."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from linli.core.errors import LinliError
from linli.core.ids import MAX_ID, as_id, as_int

_GENERIC = {
    status.HTTP_401_UNAUTHORIZED: ("请先登录。", "Please sign in first."),
    status.HTTP_403_FORBIDDEN: ("您没有权限执行此操作。", "You are not allowed to do this."),
    status.HTTP_404_NOT_FOUND: ("未找到(不存在或不在您的管辖范围内)。", "Not found (or not within your scope)."),
    status.HTTP_405_METHOD_NOT_ALLOWED: ("不支持该请求方法。", "This method is not allowed here."),
    status.HTTP_429_TOO_MANY_REQUESTS: ("请求过于频繁,请稍后再试。", "Too many requests; try again later."),
}


# DRF's field errors by code, in both languages ("detail" keeps DRF's own, more specific text).
_FIELD_CODES = {
    "required": ("此项必填。", "This field is required."),
    "null": ("此项不能为空。", "This field may not be null."),
    "blank": ("此项不能为空白。", "This field may not be blank."),
    "invalid": ("格式不正确。", "The value is not valid."),
    "invalid_choice": ("不是可选的值之一。", "Not one of the allowed choices."),
    "max_length": ("内容过长。", "The value is too long."),
    "min_value": ("数值过小。", "The value is too small."),
    "max_value": ("数值过大。", "The value is too large."),
    "max_digits": ("数字位数过多。", "Too many digits."),
    "max_decimal_places": ("小数位数过多。", "Too many decimal places."),
    "does_not_exist": (
        "所指对象不存在或不在您的管辖范围内。",
        "The referenced object does not exist or is out of scope.",
    ),
    "incorrect_type": ("类型不正确。", "Wrong type."),
    "unique": ("该值已存在。", "This value already exists."),
    "parse_error": ("请求内容无法解析。", "The request body could not be parsed."),
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, LinliError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": _flatten(exc.detail)}
        return response
    zh, en = _GENERIC.get(response.status_code, ("请求有误。", "The request is not valid."))
    code = getattr(exc, "default_code", "error")
    response.data = {"errors": [{"code": code, "zh": zh, "en": en}]}
    return response


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        for sub in detail:
            out += _flatten(sub, prefix)
    else:
        code = getattr(detail, "code", "invalid")
        zh, en = _FIELD_CODES.get(code, (str(detail), str(detail)))
        item: dict[str, Any] = {"code": code, "zh": zh, "en": en, "detail": str(detail)}
        if prefix and prefix != "non_field_errors":
            item["field"] = prefix
        out.append(item)
    return out


def int_param(request: Any, name: str, *, lo: int = 0, hi: int = MAX_ID) -> int | None:
    """An integer query parameter (``?project=12``): None when absent, a bilingual 400 when it is
    not a whole number ``lo <= n <= hi`` (by default: an id a database key can hold) — every list
    filter of the API answers a bad value the same way. An empty value (``?project=``) is refused
    too: the schema says integer, and an empty filter silently listing everything is a client's
    bug worth telling (``make fuzz`` found it)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    value = as_id(raw) if (lo, hi) == (0, MAX_ID) else as_int(raw, lo=lo, hi=hi)
    if value is None or not lo <= value <= hi:
        raise LinliError.one(
            "bad_parameter",
            f"参数 {name} 须为整数({lo}–{hi})。",
            f"Parameter {name} must be an integer from {lo} to {hi}.",
        )
    return value


class IdField(serializers.IntegerField):
    """An id in a request body: a whole number 1 … 2**63-1 (what a database key holds); anything
    else is a bilingual 400 (``min_value``/``max_value``), never an overflow in the database."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


# --- ids in API paths -----------------------------------------------------------------------------


class Router(DefaultRouter):
    """The one API router: every viewset's detail lookup is ``<linli_id:pk>``
    (``linli.core.ids.IdConverter``: a bad or huge id answers 404 like a missing one). A viewset may
    name another converter in ``lookup_value_converter``; actions with ids in their own path use
    the same converter (``url_path="buildings/<linli_id:building_pk>"``)."""

    # No ".json" twins of every route: they are not in the schema, and views whose methods take no
    # ``format`` argument answered them with a 500 (/api/v1/me.json). ``?format=json`` still works.
    include_format_suffixes = False

    def __init__(self) -> None:
        super().__init__(use_regex_path=False)
        self._default_value_pattern = "linli_id"


def choice_param(request: Any, name: str, choices: Any) -> str | None:
    """A query parameter that must be one of ``choices`` (``?status=open``): None when absent or
    empty, a bilingual 400 for anything else — the schema documents it as an enum, so a value outside
    it is refused rather than silently matching nothing."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    allowed = [str(c) for c in choices]
    if raw not in allowed:
        raise LinliError.one(
            "bad_parameter",
            f"参数 {name} 须为以下之一:{'、'.join(allowed)}。",
            f"Parameter {name} must be one of: {', '.join(allowed)}.",
        )
    return raw
