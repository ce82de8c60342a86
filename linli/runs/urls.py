"""URLs of background runs (namespace ``runs``)."""

from django.urls import path

from linli.runs import views as v

app_name = "runs"

urlpatterns = [
    path("", v.run_list, name="list"),
    path("<linli_id:pk>/", v.detail, name="detail"),
    path("<linli_id:pk>/progress/", v.progress, name="progress"),
    path("<linli_id:pk>/file/", v.file, name="file"),
]
