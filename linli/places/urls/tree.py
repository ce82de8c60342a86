"""Pages of the place tree (namespace ``places``)."""

from __future__ import annotations

from django.urls import path

from linli.places.views import tree as v

urlpatterns = [
    path("places/mine/", v.home, name="home"),  # 我的地点; "/" is the workbench
    path("places/", v.browse, name="browse"),
    path("places/district/<linli_id:pk>/", v.district, name="district"),
    path("places/street/<linli_id:pk>/", v.street, name="street"),
    path("places/community/<linli_id:pk>/", v.community, name="community"),
    path("places/community/<linli_id:pk>/map.geojson", v.community_geojson, name="community_geojson"),
    path("places/compound/<linli_id:pk>/", v.compound, name="compound"),
    path("places/building/<linli_id:pk>/", v.building, name="building"),
    path("places/grid/<linli_id:pk>/", v.grid, name="grid"),
    path("places/person/<linli_id:pk>/reveal/", v.reveal, name="reveal"),
]
