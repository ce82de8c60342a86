"""What /api/v1/schema/ says beyond what drf-spectacular derives, so that it tells the truth.

A postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``) run over the finished
document:

- **the house errors** on every operation, with their real body (``Errors``: ``{"errors": [{"code",
  "zh", "en", "field"?, "row"?, "column"?, "detail"?}]}``, linli/core/api.py): 401 and 403 everywhere
  (every call needs a signed-in user; what the role may do is checked per object), 429 everywhere
  (throttling), 400 where there are parameters or a body, 404 where the path names an object or the
  body refers to one (a missing id and an out-of-scope id answer the same), 409 on writes (the
  object's state refuses them), 413 where there is a body (``BodySizeErrorMiddleware``). A status an
  operation declares itself is kept as it is;
- **ids in paths and integer query filters** as integers ``0 … 2**63-1`` (what ``linli.core.ids.as_id``
  reads and a database key holds; anything else is a 404 in a path, a 400 in a query);
- **request bodies in JSON** only (forms are accepted too, but the API is documented and tested in
  JSON), except operations that declare multipart uploads.

Ids in request bodies are ``linli.core.api.IdField`` (1 … 2**63-1, in the schema and in validation).

docs/api.md describes the errors and how the schema is checked (``make fuzz``).
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from drf_spectacular import openapi
from drf_spectacular.authentication import BasicScheme
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from linli.core.ids import MAX_ID

HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
WRITES = ("post", "put", "patch", "delete")

PROBLEM = {
    "type": "object",
    "description": "One thing wrong with the request, in Chinese and English.",
    "properties": {
        "code": {"type": "string", "description": "stable machine-readable code, e.g. not_found"},
        "zh": {"type": "string"},
        "en": {"type": "string"},
        "field": {"type": "string", "description": "the body field concerned (dotted for nested fields)"},
        "row": {"type": "integer", "description": "spreadsheet row (header = 1) for file imports"},
        "column": {"type": "string", "description": "spreadsheet column for file imports"},
        "detail": {"type": "string", "description": "the validator's own, more specific text"},
    },
    "required": ["code", "zh", "en"],
}
ERRORS = {
    "type": "object",
    "description": "Every refusal of the API: one or more problems, bilingual.",
    "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}},
    "required": ["errors"],
}

DESCRIPTIONS = {
    400: "The request is malformed: a parameter or body field is missing, of the wrong type or out of "
    "bounds, or a rule refuses the values.",
    401: "Not signed in (HTTP Basic or a session).",
    403: "Signed in, but the role does not allow this here.",
    404: "No such object, or it is outside the caller's scope (the two are indistinguishable).",
    409: "The object's state refuses this (e.g. already closed, applied or withdrawn).",
    413: "The body is larger than LINLI_MAX_UPLOAD_BYTES.",
    429: "Too many requests; try again later.",
}

ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": MAX_ID}


class AutoSchema(openapi.AutoSchema):
    """REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]: drf-spectacular's, loaded with this module so that the
    extensions below are registered before any view is described."""


class BasicAuthScheme(BasicScheme):
    """HTTP Basic for every subclass of DRF's (the sign-in lockout's included), so the schema says
    that Basic works wherever it does."""

    match_subclasses = True
    priority = 0


def _json_type_ok(field: serializers.Field[Any, Any, Any, Any], value: Any) -> bool:
    """Whether a JSON value has the type the schema gives ``field`` (None is left to ``allow_null``)."""
    if value is None:
        return True
    if isinstance(field, serializers.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, serializers.IntegerField):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(field, serializers.ChoiceField):
        if all(isinstance(c, str) for c in field.choices):
            return isinstance(value, str)
        return not isinstance(value, bool | dict | list)
    if isinstance(field, serializers.ListField):
        return isinstance(value, list) and all(_json_type_ok(field.child, v) for v in value)
    if isinstance(field, serializers.DictField):
        return isinstance(value, dict) and all(_json_type_ok(field.child, v) for v in value.values())
    if isinstance(field, serializers.CharField | serializers.DateField | serializers.DateTimeField):
        return isinstance(value, str)
    if isinstance(field, serializers.DecimalField):
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    return True


class Input(serializers.Serializer[Any]):
    """The base of every API request serializer: in a JSON body each field must have the JSON type
    the schema gives it (DRF alone takes ``0`` for ``false`` and ``12`` for the text ``"12"``) —
    otherwise a 400 ``incorrect_type`` for that field. Form and multipart bodies, whose values are
    all text, are left to DRF's own parsing."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data, QueryDict):
            errors = {
                name: [serializers.ErrorDetail("类型不正确 / Wrong type.", code="incorrect_type")]
                for name, field in self.fields.items()
                if not field.read_only and name in data and not _json_type_ok(field, data[name])
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def checked_text(min_length: int, max_length: int, **kwargs: Any) -> serializers.CharField:
    """A required text whose length the service checks itself, with its own error code (e.g.
    ``reason_required``), after stripping spaces: the schema states that rule — at least
    ``min_length`` characters between the first and the last that are not spaces, at most
    ``max_length`` in all — and the serializer lets the service answer."""
    middle = "" if min_length <= 1 else f"[\\s\\S]{{{max(min_length - 2, 0)},}}\\S"
    pattern = f"^\\s*\\S{middle}\\s*$" if min_length > 1 else "\\S"

    @extend_schema_field({"type": "string", "minLength": min_length, "maxLength": max_length, "pattern": pattern})
    class CheckedText(serializers.CharField):
        def run_validation(self, data: Any = serializers.empty) -> Any:
            # A blank text goes on to the service, which refuses it with its own code. Not with
            # ``allow_blank``: drf-spectacular then adds a blank alternative ({"maxLength": 0}) to
            # the schema, which would call "" valid.
            if isinstance(data, str) and not data.strip():
                return ""
            return super().run_validation(data)

    return CheckedText(max_length=max_length, **kwargs)


def _error(code: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
    }


def _statuses(method: str, operation: dict[str, Any]) -> set[int]:
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation
    codes = {401, 403, 429}
    if params or has_body:
        codes.add(400)
    if has_body or any(p.get("in") == "path" for p in params):
        codes.add(404)
    if method in WRITES:
        codes.add(409)
    if has_body:
        codes.add(413)
    return codes


def _bound(param: dict[str, Any]) -> None:
    """Ids in paths, and integer filters, as the whole numbers the API reads them as (``as_id``:
    0 … 2**63-1; larger numbers, signs and text are a 404 in a path, a 400 in a query)."""
    schema = param.setdefault("schema", {})
    if param.get("in") == "path" and (param["name"] == "id" or param["name"].endswith("_pk")):
        param["schema"] = {**schema, **ID_SCHEMA}
    elif param.get("in") == "query" and schema.get("type") == "integer":
        schema.setdefault("minimum", 0)
        schema.setdefault("maximum", MAX_ID)


def _only_json(body: dict[str, Any]) -> None:
    content = body.get("content", {})
    if "application/json" in content:
        body["content"] = {"application/json": content["application/json"]}


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: see the module docstring."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    schemas["Errors"] = ERRORS
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for param in operation.get("parameters", []):
                _bound(param)
            if "requestBody" in operation:
                _only_json(operation["requestBody"])
            responses = operation.setdefault("responses", {})
            for code in sorted(_statuses(method, operation)):
                responses.setdefault(str(code), _error(code))
    return result
