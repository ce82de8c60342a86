"""Import and export pages. Included by linli/places/urls.py (namespace ``places``), hence no app_name."""

from django.urls import path

from linli.places import views_io

urlpatterns = [
    path("places/community/<linli_id:pk>/import/", views_io.import_page, name="io_import"),
    path("places/import/<linli_id:pk>/", views_io.preview_page, name="io_preview"),
    path("places/import/<linli_id:pk>/confirm/", views_io.preview_confirm, name="io_preview_confirm"),
    path("places/import/<linli_id:pk>/cancel/", views_io.preview_cancel, name="io_preview_cancel"),
    path("places/import/<linli_id:pk>/resolve/", views_io.preview_resolve, name="io_preview_resolve"),
    path("places/import/template.xlsx", views_io.template_download, name="io_template"),
    path("places/<str:kind>/<linli_id:pk>/export/<str:what>.xlsx", views_io.export, name="io_export"),
]
