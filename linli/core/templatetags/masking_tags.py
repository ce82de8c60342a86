"""``{% load masking_tags %}`` — free text shown to someone who may not see people's data.

``{{ report.text|masked:see_people|linebreaksbr }}`` shows the text with every phone and ID number
in it masked (``linli.core.masking.mask_text``) unless ``see_people`` is true. The view decides
``see_people`` — ``permissions.can(user, Action.VIEW_PEOPLE, obj)`` for the object the text belongs
to — and passes it in; a page without that variable (a public page) always masks. Put ``masked``
first, before ``linebreaksbr`` / ``truncatechars``, so that it reads the text as it was written.
"""

from __future__ import annotations

from typing import Any

from django import template

from linli.core.masking import mask_text

register = template.Library()


@register.filter(is_safe=False)
def masked(value: Any, see_people: Any = False) -> Any:
    if value is None or value == "":
        return value
    return value if see_people is True else mask_text(str(value))
