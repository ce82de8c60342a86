from django.urls import URLPattern, URLResolver

app_name = "renewal"
urlpatterns: list[URLPattern | URLResolver] = []
