from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("", include("linli.places.urls")),
    path("accounts/", include("linli.accounts.urls")),
    path("renewal/", include("linli.renewal.urls")),
    path("consult/", include("linli.consult.urls")),
    path("governance/", include("linli.governance.urls")),
    path("dashboard/", include("linli.dashboard.urls")),
    path("open311/v2/", include("linli.open311.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("linli.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

handler404 = "linli.core.views.not_found"
handler403 = "linli.core.views.forbidden"
handler400 = "linli.core.views.bad_request"
handler500 = "linli.core.views.server_error"
