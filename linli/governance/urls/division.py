from django.urls import path

from linli.governance.views import division as views

urlpatterns = [
    path("community/<int:pk>/division/", views.division, name="division"),
    path("community/<int:pk>/division/publish/", views.division_publish, name="division_publish"),
]
