"""``{% render_panel panel %}``: a section another app adds to a project page (renewal/panels.py).

The panel's template is rendered with the panel's own context plus ``panel``, ``project`` and
``public`` (True on the public page, where the panel was asked with user=None), and with the
request, so ``{% csrf_token %}`` and ``{% url %}`` work inside it.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context: Any, panel: Any) -> SafeString:
    ctx = {**panel.context, "panel": panel, "project": context.get("project"), "public": context.get("public", False)}
    return mark_safe(render_to_string(panel.template, ctx, request=context.get("request")))  # noqa: S308 (rendered template)
