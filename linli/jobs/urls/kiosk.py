"""The kiosk at /kiosk/ (namespace ``kiosk``; issue 14 §5; being built)."""

from django.urls import URLPattern

app_name = "kiosk"

urlpatterns: list[URLPattern] = []
