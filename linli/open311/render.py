"""Open311 GeoReport v2 output: the same Python structure as XML or JSON (pure Python, no Django).

The standard's JSON is a mechanical mapping of its XML (the "Spark convention"): an element that
holds a list of like elements (``<services><service/>…</services>``) becomes a JSON array, every
other element an object or a scalar. So a view builds one structure — dicts, lists, strings,
numbers, booleans, None — names the root element, and this module writes either format:

    XML   <?xml version="1.0" encoding="UTF-8"?><services><service><service_code>…
    JSON  [{"service_code": …}]

Booleans are written ``true``/``false``, None as an empty element (JSON ``null``). Characters
that XML 1.0 cannot carry (control characters a client may have sent in a description) are
dropped from XML output so that every document parses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = {"xml": XML_TYPE, "json": JSON_TYPE}

# The element name of each item in a list-valued element.
ITEM_TAG: dict[str, str] = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "steps": "step",
    "notes": "note",
}

_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _BAD_XML_CHARS.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        tag = ITEM_TAG.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, tag), child)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """``data`` under the element ``root`` as a UTF-8 XML document with its declaration."""
    element = ET.Element(root)
    _fill(element, data)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def to_json(data: Any) -> bytes:
    """``data`` as UTF-8 JSON (Chinese written as is, not escaped)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(fmt: str, root: str, data: Any) -> tuple[bytes, str]:
    """(body, content type) of ``data`` in ``fmt`` (``xml`` or ``json``)."""
    if fmt == "json":
        return to_json(data), JSON_TYPE
    return to_xml(root, data), XML_TYPE


def errors(items: list[tuple[int | str, str]]) -> list[dict[str, Any]]:
    """The standard's error list: one {code, description} per problem."""
    return [{"code": code, "description": description} for code, description in items]
