"""The .xlsx exports of a place (compounds, buildings, dwellings, residents, grids).

Export needs EXPORT on the place (``queries.exports.export_target``: outside the user's scope →
404, visible but not allowed → 403); the exported rows are filtered again with ``scoped``. Exports
carry personal data only masked, and exporting residents is logged (AccessLog ``export``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from linli.accounts.models import AccessLog
from linli.accounts.services import log_access, place_path
from linli.core.exports import xlsx_response
from linli.core.net import client_ip
from linli.places.queries import exports as q


@login_required
@never_cache
@require_GET
def export(request: HttpRequest, kind: str, pk: int, what: str) -> HttpResponse:
    obj = q.export_target(request.user, kind, pk, what)
    columns, rows = q.EXPORTERS[what](request.user, obj)
    code = getattr(obj, "code", str(obj.pk))
    filename = f"{obj}-{q.TITLES[what].split()[0]}-{code}.xlsx"
    response = xlsx_response(filename, q.TITLES[what], columns, rows)
    if what == "residents":
        log_access(
            request.user,
            AccessLog.What.EXPORT,
            obj,
            path=place_path(obj),
            reason=f"{what}.xlsx",
            ip=client_ip(request),
        )
    return response
