from django.urls import path

from linli.governance.views import events as views

urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("events/new/", views.event_new, name="event_new"),
    path("events/hotline/", views.event_hotline, name="event_hotline"),
    path("events/nearby/", views.event_nearby, name="event_nearby"),
    path("events/<linli_id:pk>/", views.event_detail, name="event_detail"),
    path("events/<linli_id:pk>/act/", views.event_act, name="event_act"),
    path("events/<linli_id:pk>/ask/", views.event_ask, name="event_ask"),
    path("events/<linli_id:pk>/decide/", views.event_decide, name="event_decide"),
    path("events/photos/<linli_id:pk>/", views.event_photo, name="event_photo"),
]
