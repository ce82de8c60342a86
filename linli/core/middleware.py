from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from linli.core.errors import LinliError


class BodySizeErrorMiddleware:
    """Refuse oversize bodies before anything reads them, with a 413 a person can understand.

    Django's own limits cover form fields only; uploaded files would be streamed to disk whatever
    their size, so the Content-Length is checked here for every request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.LINLI_MAX_UPLOAD_BYTES
        if length > limit:
            mb = limit // (1024 * 1024)
            error = LinliError.one(
                "too_large",
                f"上传内容过大(上限 {mb} MB),请拆分后再上传。",
                f"The upload is too large (limit {mb} MB); split it and try again.",
                status=413,
            )
            return error_response(request, error)
        return self.get_response(request)


def error_response(request: HttpRequest, error: LinliError) -> HttpResponse:
    accept = request.headers.get("Accept", "")
    if request.path.startswith("/api/") or "application/json" in accept:
        return JsonResponse(error.as_dict(), status=error.status)
    from django.template.loader import render_to_string

    html = render_to_string("core/error.html", {"error": error}, request=request)
    return HttpResponse(html, status=error.status)


class DefaultLanguageMiddleware:
    """The lean stack's language (linli/core/handlers.py): the site's default for every request, so
    a thread that served an English page before does not answer the next machine request in English.
    Open311 answers pick their language from the request itself (``open311.params.language``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return self.get_response(request)


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Pages are Chinese unless the person chose English (the language switch sets a cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a district office
    PC with an English browser would open in English; Linli is Chinese first. API clients may
    still ask for English with Accept-Language (error messages always carry both languages).
    """

    def process_request(self, request: HttpRequest) -> None:
        languages = dict(settings.LANGUAGES)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in languages:
            chosen = None
            if request.path.startswith("/api/"):
                chosen = translation.get_language_from_request(request)
        translation.activate(chosen or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
