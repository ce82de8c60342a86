"""URLs of the sensing app: each topic module's patterns, concatenated under one namespace."""

from linli.sensing.urls import alarms, devices, imports, intake

app_name = "sensing"

urlpatterns = [*alarms.urlpatterns, *devices.urlpatterns, *imports.urlpatterns, *intake.urlpatterns]
