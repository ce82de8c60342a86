"""Jobs urls: seekers (issue 14; being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
