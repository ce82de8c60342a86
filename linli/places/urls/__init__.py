"""URLs of the places app (namespace ``places``): each topic module's patterns, concatenated —
``tree`` (home, search, district … grid, reveal), ``imports`` (upload → preview → confirm or
cancel, the template) and ``exports`` (.xlsx)."""

from linli.places.urls import exports, imports, tree

app_name = "places"

urlpatterns = [*tree.urlpatterns, *imports.urlpatterns, *exports.urlpatterns]
