"""Error pages: bilingual, the site's layout, JSON for API callers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from linli.core.errors import LinliError
from linli.core.middleware import error_response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request,
        LinliError.one("not_found", "页面不存在,或不在您的管辖范围内。", "Not found, or not within your scope.", 404),
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request, LinliError.one("forbidden", "您的角色无权执行此操作。", "Your role does not allow this.", 403)
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, LinliError.one("bad_request", "请求有误。", "The request is not valid.", 400))


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "<!doctype html><meta charset=utf-8><title>500</title><h1>系统出错 / Server error</h1>"
        "<p>已记录,请稍后再试。The error was logged; please try again later.</p>",
        status=500,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        LinliError.one(
            "csrf",
            "页面已过期或来源不可信,请刷新页面后重试。",
            "The page has expired or the request did not come from this site; reload the page and try again.",
            403,
        ),
    )


def api_docs_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The Swagger/Redoc pages: a signed-out browser is sent to the sign-in page, unless
    ``LINLI_API_DOCS_PUBLIC`` opens them (read per request, so the setting can be changed in tests)."""

    @wraps(view)
    def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not settings.LINLI_API_DOCS_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return page
