"""Irreversible actions ask first and say what they do (issue 8).

The pattern, the same on every page: the action's form posts as usual. A POST **without**
``confirm=1`` changes nothing: the view answers with a confirmation page (``core/confirm.html``)
that states the consequences in the page's language (e.g. "the result cannot be changed; 1 of 45
owners voted") and carries the same fields again, plus ``confirm=1``, in a second form. Only that
second POST does it. It works without JavaScript; the inline part ``core/_confirm.html`` can also be
shown inside a ``<dialog>`` or a ``<details>`` of the page itself.

    from linli.core import confirm

    if not confirm.confirmed(request):
        return confirm.ask(request, title=_("Close and count?"), consequences=[...],
                           button=_("Yes, close and count"), cancel_url=reverse(...))
    svc.close_ballot(request.user, ballot)

The API does not ask: the API call is the confirmation (docs). Service rules (deadlines, reasons)
apply the same to both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

FIELD = "confirm"
_NOT_REPEATED = {"csrfmiddlewaretoken", FIELD}


def confirmed(request: HttpRequest) -> bool:
    """True when the POST carries ``confirm=1`` (the second, confirming submission)."""
    return request.method == "POST" and request.POST.get(FIELD) == "1"


def repeated_fields(request: HttpRequest, only: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """The POST's fields to send again with the confirmation (files cannot be carried over)."""
    keep = set(only) if only is not None else None
    return [
        (k, v)
        for k in request.POST
        if k not in _NOT_REPEATED and (keep is None or k in keep)
        for v in request.POST.getlist(k)
    ]


def ask(
    request: HttpRequest,
    *,
    title: str,
    consequences: Sequence[str],
    button: str,
    cancel_url: str,
    action: str | None = None,
    details: Sequence[tuple[str, str]] = (),
    only: Iterable[str] | None = None,
    file_field: str = "",
    file_label: str = "",
    crumbs: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The confirmation page: what the action does (``consequences``), what is being sent
    (``details``: label, value), and a form that repeats the POST with ``confirm=1``.
    ``file_field``: the action took files (photos), which a browser cannot carry over: the form
    offers the file input again."""
    ctx = {
        "confirm": {
            "title": title,
            "consequences": list(consequences),
            "details": list(details),
            "button": button,
            "cancel_url": cancel_url,
            "action": action or request.get_full_path(),
            "fields": repeated_fields(request, only),
            "file_field": file_field,
            "file_label": file_label,
        },
        "crumbs": crumbs,
    }
    return render(request, "core/confirm.html", ctx, status=status)
