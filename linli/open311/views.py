"""Open311 GeoReport v2 endpoints under /open311/v2/ (docs/open311.md).

Every answer is XML or JSON after the suffix of the URL; every refusal is the standard's list of
errors — 404 for an unknown resource (or format), 403 for a missing or bad api_key, 400 for
anything else — with a description in Chinese and English. Every parameter is read through
``params`` (control characters, repeated parameters, content types and charsets, numbers and
dates bounded), so that each bad input gets its own error; reads are ``queries``, the one write
(a POST's report) is ``services.submit``. Nothing here answers
500: an unexpected failure (a bug) is logged and answered as the standard's "general service
error" (400).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt

from linli.core import clock
from linli.core.errors import LinliError
from linli.open311 import params, render
from linli.open311 import queries as q
from linli.open311 import services as svc
from linli.open311.errors import Open311Error

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def respond(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    body, content_type = render.render(fmt, root, data)
    return HttpResponse(body, content_type=content_type, status=status)


def refuse(fmt: str, error: Open311Error) -> HttpResponse:
    return respond(fmt if fmt in render.FORMATS else "xml", "errors", render.errors(error.items()), error.status)  # type: ignore[arg-type]


def api(methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Check the format suffix and method; turn every refusal into the standard's error list."""

    def wrap(view: View) -> View:
        @wraps(view)
        def inner(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            fmt = fmt.lower()
            if fmt not in render.FORMATS:
                return refuse(
                    "xml",
                    Open311Error(
                        404, (f"不支持的格式 .{fmt[:20]}(可用 .xml、.json)。", "Unknown format: use .xml or .json.")
                    ),
                )
            if request.method not in methods:
                allowed = ", ".join(methods)
                return refuse(
                    fmt, Open311Error(400, (f"此资源只接受 {allowed}。", f"This resource accepts {allowed} only."))
                )
            try:
                with q.fresh():  # the generations of keys and categories, read once per request
                    return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return refuse(fmt, exc)
            except LinliError as exc:
                return refuse(fmt, Open311Error.of(exc))
            except (SuspiciousOperation, UnreadablePostError) as exc:
                log.info("open311: unreadable request: %s", exc)
                return refuse(fmt, Open311Error(400, ("请求内容无法读取。", "The request body could not be read.")))
            except Exception:
                log.exception("open311: general service error")
                return refuse(
                    fmt,
                    Open311Error(
                        400,
                        ("服务处理出错,请稍后重试并告知我们。", "General service error: try again later and tell us."),
                    ),
                )

        return inner

    return wrap


@api()
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    changeset = getattr(settings, "LINLI_OPEN311_CHANGESET", "2025-01-01T00:00:00+08:00")
    data = {
        "changeset": changeset,
        "contact": getattr(settings, "LINLI_OPEN311_CONTACT", ""),
        "key_service": getattr(settings, "LINLI_OPEN311_KEY_SERVICE", ""),
        "endpoints": [
            {
                "specification": q.SPECIFICATION,
                "url": request.build_absolute_uri("/open311/v2"),
                "changeset": changeset,
                "type": getattr(settings, "LINLI_OPEN311_ENDPOINT_TYPE", "production"),
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", data)


@api()
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    q.jurisdiction(params.query(request).get("jurisdiction_id", "") or "")
    language = params.language(request)
    return respond(fmt, "services", [q.service_item(s, language) for s in q.services().values()])


@api()
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    q.jurisdiction(params.query(request).get("jurisdiction_id", "") or "")
    return respond(fmt, "service_definition", q.service_definition(q.service(code), params.language(request)))


# CSRF exemption, deliberately: POST requests.{fmt} is called by Open311 client software (apps,
# kiosks, partner systems), never by a page of this site, and it authenticates with the api_key in
# the form body — not with the session cookie that CSRF protection guards. A browser cannot be
# tricked into using a key it does not have, and a signed-in session gives this endpoint nothing.
@csrf_exempt
@api(methods=("GET", "POST"))
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    get = params.query(request)
    if request.method == "POST":
        post = params.body(request)
        key = q.key_info(post.get("api_key") or get.get("api_key") or "")
        data = svc.submit(key, post, request.headers.get("Idempotency-Key", ""))
        return respond(fmt, "service_requests", data)
    j = q.jurisdiction(get.get("jurisdiction_id", "") or "")
    query = params.parse_query(get, clock.now())
    found = q.find(j, query)
    return respond(fmt, "service_requests", q.records(found, params.language(request), query.extensions))


@api()
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    get = params.query(request)
    j = q.jurisdiction(get.get("jurisdiction_id", "") or "")
    event = q.one(j, request_id)
    extensions = params.extensions(get)
    return respond(fmt, "service_requests", q.records([event], params.language(request), extensions))


@api()
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    j = q.jurisdiction(params.query(request).get("jurisdiction_id", "") or "")
    return respond(fmt, "service_requests", q.by_token(j, token))


@csrf_exempt  # same reason as requests(): an API surface without sessions; this view only refuses
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    fmt = "json" if rest.lower().endswith(".json") else "xml"
    return refuse(fmt, Open311Error(404, ("没有这个资源。", "No such resource (see discovery.xml).")))
