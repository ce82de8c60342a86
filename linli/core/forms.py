"""Page forms read by the API's own input serializers (docs/architecture.md, "page forms").

A page and the API accept the same input, so they validate it with the same code: the API's
serializer. Two ways, for the two kinds of page:

- ``read_form(serializer, request.POST)`` reads each field as the API would and passes a refused
  value through unchanged, so the *service* refuses it with the page's own bilingual message and
  status (the pages whose services check every field themselves: renewal).
- ``check_form(serializer, data, texts)`` validates the whole form and raises a 400 ``LinliError``
  listing the page's own message for each refused field (``texts[field]``), or else the
  serializer's words (the pages whose services take already-checked values: accounts, places).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from linli.core.errors import LinliError, Problem


def read_form(serializer: type[serializers.Serializer[Any]], post: QueryDict) -> dict[str, Any]:
    """A page's form read by the API's input ``serializer``, field by field: each value it accepts
    comes out as the API reads it (ids, decimals, a checkbox's "on", choices, trimmed text, a
    default for an empty optional field); a value it refuses comes out as sent, so that the service
    refuses it with the page's own bilingual message and status, as before; a field the form does
    not send (and that has no default) is left out. A checkbox the form does not send is False,
    whatever the API's default (a browser leaves unticked boxes out)."""
    out: dict[str, Any] = {}
    for name, field in serializer().fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.BooleanField) and name not in post:
            out[name] = False
            continue
        raw = field.get_value(post)
        try:
            out[name] = field.run_validation(raw)
        except SkipField:
            continue
        except serializers.ValidationError:
            if raw is empty:
                continue
            out[name] = post.getlist(name) if isinstance(field, serializers.ListField) else post.get(name)
    return out


def check_form(
    serializer_class: type[serializers.Serializer[Any]], data: Mapping[str, Any], texts: Mapping[str, Problem]
) -> dict[str, Any]:
    """A page form checked by the API's own input serializer: the validated values, or a 400
    ``LinliError`` listing, for each field refused, the page's own message (``texts[field]``, so
    that a page says what it always said) or else the serializer's words. Pages of every app use
    it (docs/architecture.md, "page forms")."""
    form_body = QueryDict(mutable=True)  # a form's values, as DRF reads a form-encoded request
    for name, value in data.items():
        if value is not None:
            form_body[name] = value
    form = serializer_class(data=form_body)
    if form.is_valid():
        return dict(form.validated_data)
    problems: list[Problem] = []
    for name, errors in form.errors.items():
        for error in errors if isinstance(errors, list) else [errors]:
            words = f"{name}: {error}"
            problem = texts.get(name) or Problem(getattr(error, "code", "invalid"), words, words)
            if problem not in problems:
                problems.append(problem)
    raise LinliError(problems, 400)
