from django.urls import include, path

from linli.places import views

app_name = "places"
urlpatterns = [
    path("", views.home, name="home"),
    path("places/", views.browse, name="browse"),
    path("places/district/<int:pk>/", views.district, name="district"),
    path("places/street/<int:pk>/", views.street, name="street"),
    path("places/community/<int:pk>/", views.community, name="community"),
    path("places/community/<int:pk>/map.geojson", views.community_geojson, name="community_geojson"),
    path("places/compound/<int:pk>/", views.compound, name="compound"),
    path("places/building/<int:pk>/", views.building, name="building"),
    path("places/grid/<int:pk>/", views.grid, name="grid"),
    path("places/person/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("", include("linli.places.urls_io")),
]
