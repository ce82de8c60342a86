"""The workbench is the site's root for a signed-in person (``/``, namespace ``workbench``)."""

from django.urls import path

from linli.workbench import views as v

app_name = "workbench"

urlpatterns = [
    path("", v.home, name="home"),
]
