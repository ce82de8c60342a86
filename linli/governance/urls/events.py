"""URLs of grid events (report, list, detail, moves, photos); the views are ``linli.governance.views.events``."""

from django.urls import path

from linli.governance.views import events as v

urlpatterns = [
    path("events/", v.event_list, name="event_list"),
    path("events/new/", v.event_new, name="event_new"),
    path("events/hotline/", v.event_hotline, name="event_hotline"),
    path("events/nearby/", v.event_nearby, name="event_nearby"),
    path("events/places/", v.event_places, name="event_places"),
    path("events/<linli_id:pk>/", v.event_detail, name="event_detail"),
    path("events/<linli_id:pk>/act/", v.event_act, name="event_act"),
    path("events/<linli_id:pk>/ask/", v.event_ask, name="event_ask"),
    path("events/<linli_id:pk>/decide/", v.event_decide, name="event_decide"),
    path("events/photos/<linli_id:pk>/", v.event_photo, name="event_photo"),
]
