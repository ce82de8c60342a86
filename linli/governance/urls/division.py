from django.urls import path

from linli.governance.views import division as views

urlpatterns = [
    path("community/<linli_id:pk>/division/", views.division, name="division"),
    path("community/<linli_id:pk>/division/publish/", views.division_publish, name="division_publish"),
]
