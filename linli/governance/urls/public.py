"""URLs where residents take part: the public map of reported problems, its feed, one problem's public
page, "me too" and following; the views are ``linli.governance.views.public``."""

from django.urls import path

from linli.governance.views import public as v

urlpatterns = [
    path("public/", v.public_map, name="public_map"),
    path("public/problems.geojson", v.public_geojson, name="public_geojson"),
    path("public/following/", v.public_following, name="public_following"),
    path("public/<linli_id:pk>/", v.public_event, name="public_event"),
    path("public/<linli_id:pk>/support/", v.public_support, name="public_support"),
    path("public/<linli_id:pk>/follow/", v.public_follow, name="public_follow"),
]
