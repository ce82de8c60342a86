"""Jobs urls: employers (issue 14; being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
