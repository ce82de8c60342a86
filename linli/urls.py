from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from linli.core.views import api_docs_page

# Swagger UI and Redoc write <style> elements while they run, and Redoc parses the schema in a
# blob: worker: their two pages allow inline styles and blob: workers; scripts stay this site's only
# (Swagger's start-up script is served as a file by the split view; linli/templates/drf_spectacular/
# redoc.html drops Redoc's inline one).
_docs_csp = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"], "object-src": [NONE]})

urlpatterns = [
    # First: the Open311 intake is resolved on every request of its clients (hundreds a second), and
    # each pattern tried before it costs (python -m bench.bench_open311 --phases).
    path("open311/v2/", include("linli.open311.urls")),
    path("", include("linli.workbench.urls")),
    path("", include("linli.places.urls")),
    path("accounts/", include("linli.accounts.urls")),
    path("renewal/", include("linli.renewal.urls")),
    path("consult/", include("linli.consult.urls")),
    path("governance/", include("linli.governance.urls")),
    path("dashboard/", include("linli.dashboard.urls")),
    path("sensing/", include("linli.sensing.urls")),
    path("jobs/", include("linli.jobs.urls")),
    path("kiosk/", include("linli.jobs.urls.kiosk")),
    path("runs/", include("linli.runs.urls")),
    path("notify/", include("linli.notify.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("linli.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Schema and docs: signed-in users only unless LINLI_API_DOCS_PUBLIC (linli.core.drf.ApiDocsAccess);
    # the docs pages send a signed-out browser to the sign-in page.
    path(
        "api/v1/docs/",
        api_docs_page(_docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema"))),
        name="api-docs",
    ),
    path("api/v1/redoc/", api_docs_page(_docs_csp(SpectacularRedocView.as_view(url_name="schema"))), name="api-redoc"),
]

handler404 = "linli.core.views.not_found"
handler403 = "linli.core.views.forbidden"
handler400 = "linli.core.views.bad_request"
handler500 = "linli.core.views.server_error"
