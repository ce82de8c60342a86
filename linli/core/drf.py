"""DRF pieces named in settings (kept import-light: DRF loads them while it is starting)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated

from linli.core.errors import LinliError
from linli.core.ids import MAX_INT, as_int


class SignedIn(IsAuthenticated):
    """Every API call needs a signed-in user; what they may see is then scoped per object."""

    message = "请先登录 / Please sign in first."


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=`` read with the one bounded parser (``linli.core.ids.as_int``).

    ``limit`` is 1 … ``LINLI_API_MAX_LIMIT`` (default 500), ``offset`` 0 … 2**63-1. A value that is
    not a whole number, or out of those bounds, is refused with a bilingual 400 (never silently
    clamped: a client that asked for 150,000 rows must learn it did not get them)."""

    @property
    def max_limit(self) -> int:  # type: ignore[override]
        return int(getattr(settings, "LINLI_API_MAX_LIMIT", 500))

    @property
    def default_limit(self) -> int:  # type: ignore[override]
        page_size: Any = settings.REST_FRAMEWORK.get("PAGE_SIZE") or 50
        return min(int(page_size), self.max_limit)

    def _param(self, request: Any, name: str, lo: int, hi: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        value = as_int(raw, lo=lo, hi=hi)
        if value is None:
            raise LinliError.one(
                "bad_parameter",
                f"参数 {name} 须为整数({lo}–{hi})。",
                f"Parameter {name} must be an integer from {lo} to {hi}.",
            )
        return value

    def get_limit(self, request: Any) -> int:
        value = self._param(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if value is None else value

    def get_offset(self, request: Any) -> int:
        value = self._param(request, self.offset_query_param, 0, MAX_INT)
        return 0 if value is None else value

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.limit_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_limit}
            elif param["name"] == self.offset_query_param:
                param["schema"] = {"type": "integer", "minimum": 0, "maximum": MAX_INT}
        return params


class ApiDocsAccess(IsAuthenticated):
    """The OpenAPI schema and its docs pages: signed-in users, or everyone with LINLI_API_DOCS_PUBLIC."""

    message = SignedIn.message

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(getattr(settings, "LINLI_API_DOCS_PUBLIC", False)) or super().has_permission(request, view)
