"""URLs of the governance app: each topic module's patterns, concatenated under one namespace."""

from linli.governance.urls import division, events, public, queues

app_name = "governance"

urlpatterns = [*division.urlpatterns, *events.urlpatterns, *public.urlpatterns, *queues.urlpatterns]
