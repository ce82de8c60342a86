"""Import and export pages. Included by linli/places/urls.py (namespace ``places``), hence no app_name."""

from django.urls import path

from linli.places import views_io

urlpatterns = [
    path("places/community/<int:pk>/import/", views_io.import_page, name="io_import"),
    path("places/import/template.xlsx", views_io.template_download, name="io_template"),
    path("places/<str:kind>/<int:pk>/export/<str:what>.xlsx", views_io.export, name="io_export"),
]
