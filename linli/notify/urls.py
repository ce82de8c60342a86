"""URLs of notifications (namespace ``notify``)."""

from django.urls import path

from linli.notify import views as v

app_name = "notify"

urlpatterns = [
    path("", v.inbox, name="inbox"),
    path("<linli_id:pk>/read/", v.read, name="read"),
    path("read-all/", v.read_all, name="read_all"),
    path("preferences/", v.preferences, name="preferences"),
]
