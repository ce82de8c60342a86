"""Import and export pages. Included by linli/places/urls.py (namespace ``places``), hence no app_name."""

from django.urls import path

from linli.places import views_io

urlpatterns = [
    path("places/community/<int:pk>/import/", views_io.import_page, name="io_import"),
    path("places/import/<int:pk>/", views_io.preview_page, name="io_preview"),
    path("places/import/<int:pk>/confirm/", views_io.preview_confirm, name="io_preview_confirm"),
    path("places/import/<int:pk>/cancel/", views_io.preview_cancel, name="io_preview_cancel"),
    path("places/import/<int:pk>/resolve/", views_io.preview_resolve, name="io_preview_resolve"),
    path("places/import/template.xlsx", views_io.template_download, name="io_template"),
    path("places/<str:kind>/<int:pk>/export/<str:what>.xlsx", views_io.export, name="io_export"),
]
