from django.urls import include, path

from linli.places import views

app_name = "places"
urlpatterns = [
    path("", views.home, name="home"),
    path("places/", views.browse, name="browse"),
    path("places/district/<linli_id:pk>/", views.district, name="district"),
    path("places/street/<linli_id:pk>/", views.street, name="street"),
    path("places/community/<linli_id:pk>/", views.community, name="community"),
    path("places/community/<linli_id:pk>/map.geojson", views.community_geojson, name="community_geojson"),
    path("places/compound/<linli_id:pk>/", views.compound, name="compound"),
    path("places/building/<linli_id:pk>/", views.building, name="building"),
    path("places/grid/<linli_id:pk>/", views.grid, name="grid"),
    path("places/person/<linli_id:pk>/reveal/", views.reveal, name="reveal"),
    path("", include("linli.places.urls_io")),
]
