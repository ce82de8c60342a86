from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linli.accounts import queries


@login_required
def me(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/me.html",
        {
            "grants": queries.grants_with_places(request.user),
            "crumbs": [{"name": str(request.user)}],
        },
    )
