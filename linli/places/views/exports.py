"""The .xlsx exports of a place (compounds, buildings, dwellings, residents, grids), made in the
background (docs/runs_services.md).

``GET`` shows what will be exported and a button; ``POST`` starts the run (``places.tasks.
export_places``) and redirects to its page, where a progress bar counts the rows and the file is
then downloaded with the permission checked again. Export needs EXPORT on the place
(``queries.exports.export_target``: outside the user's scope → 404, visible but not allowed → 403;
residents also need VIEW_PEOPLE), checked here before the run starts and again in the task. People
are exported only masked, and exporting residents is logged (AccessLog ``export``) when the file is
made.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from linli.accounts.roles import Action
from linli.core.exports import start_page
from linli.core.lang import pick
from linli.core.net import client_ip
from linli.places import tasks
from linli.places.queries import exports as q
from linli.runs import services as runs_services


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest, kind: str, pk: int, what: str) -> HttpResponse:
    user = request.user
    obj = q.export_target(user, kind, pk, what)
    zh, en = q.NAMES[what]
    title_zh, title_en = f"导出{obj}的{zh}(.xlsx)", f"Export the {en} of {obj} (.xlsx)"
    if request.method == "GET":
        return start_page(request, pick(title_zh, title_en))
    run = runs_services.start(
        user,
        "places.export",
        tasks.export_places,
        action=Action.EXPORT,
        target=obj,
        title_zh=title_zh,
        title_en=title_en,
        place_kind=kind,
        pk=obj.pk,
        what=what,
        ip=client_ip(request),
    )
    return HttpResponseRedirect(reverse("runs:detail", args=[run.pk]), status=303)
