"""/renewal/ pages: staff pages (signed in, scoped) and the public pages /renewal/p/ (index) and
/renewal/p/<id>/ (one project)."""

from django.urls import URLPattern, URLResolver, path

from linli.renewal import views

app_name = "renewal"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.project_list, name="project_list"),
    path("new/", views.project_create, name="project_create"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("<linli_id:pk>/", views.project_detail, name="project_detail"),
    path("<linli_id:pk>/phase/", views.project_phase, name="project_phase"),
    path("<linli_id:pk>/items/", views.item_add, name="item_add"),
    path("<linli_id:pk>/sample-flats/", views.sample_flat_add, name="sample_flat_add"),
    path("<linli_id:pk>/reports/", views.report_add, name="report_add"),
    path("items/<linli_id:pk>/progress/", views.item_progress, name="item_progress"),
    path("items/<linli_id:pk>/edit/", views.item_edit, name="item_edit"),
    path("sample-flats/<linli_id:pk>/open-days/", views.open_day_add, name="open_day_add"),
    path("reports/<linli_id:pk>/answer/", views.report_answer, name="report_answer"),
    path("photos/<linli_id:pk>/", views.photo, name="photo"),
    path("p/", views.public_index, name="public_index"),
    path("p/<linli_id:pk>/", views.public_project, name="public_project"),
]
