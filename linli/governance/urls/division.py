"""URLs of grid division (preview, publish); the views are ``linli.governance.views.division``."""

from django.urls import path

from linli.governance.views import division as v

urlpatterns = [
    path("community/<linli_id:pk>/division/", v.division, name="division"),
    path("community/<linli_id:pk>/division/publish/", v.division_publish, name="division_publish"),
]
