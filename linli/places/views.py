"""Placeholder: the real pages are being written (see issue 2)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse

from linli.accounts.permissions import get_or_404
from linli.accounts.roles import Action
from linli.places import models as m


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("home")


@login_required
def browse(request: HttpRequest) -> HttpResponse:
    return HttpResponse("browse")


def _page(model: type) -> object:
    @login_required
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_or_404(request.user, Action.VIEW, model, pk=pk)
        return HttpResponse(str(obj))

    return view


district = _page(m.District)
street = _page(m.Street)
community = _page(m.Community)
compound = _page(m.Compound)
building = _page(m.Building)
grid = _page(m.Grid)


@login_required
def community_geojson(request: HttpRequest, pk: int) -> HttpResponse:
    get_or_404(request.user, Action.VIEW, m.Community, pk=pk)
    return JsonResponse({"type": "FeatureCollection", "features": []})
