"""One page of a list: the shared paging of every list and queue page (issue 12: queues ran
11,000–19,000 px on a phone).

``paginate(request.GET, queryset, 20)`` counts once and loads one slice (``count()`` +
``LIMIT/OFFSET``), never the whole list; ``page_at(request.GET, count)`` only works out the page,
for a caller that slices the queryset itself. The page number is read with
``core.ids.as_int`` (anything malformed is page 1; past the end is the last page), so a bad
``?page=`` is never a 500. Several lists on one page page independently with their own parameter
(``param="p-register"``) and keep the others' numbers and filters in their links, which end in
``anchor`` (the list's heading) so the reader lands where they were.

The links are drawn by ``core/_pager.html``: ``{% include "core/_pager.html" with pg=page %}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from django.http import QueryDict

from linli.core.ids import as_int

T = TypeVar("T")

#: Rows on one page of a list, unless the page says otherwise.
PER_PAGE = 20
#: Page numbers linked on each side of the current one (plus the first and the last).
WINDOW = 2


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of ``count`` rows: ``rows`` (at most ``per_page``), its ``number`` of ``pages``."""

    rows: list[T]
    number: int
    pages: int
    count: int
    per_page: int
    param: str = "page"
    query: str = ""  # the other parameters of the request, url-encoded, without ``param``
    anchor: str = ""  # "#q-register": where each link lands
    label: str = ""  # the accessible name of the page links' <nav> (the list's name)
    numbers: list[int | None] = field(default_factory=list)  # the page links; None = a gap (…)

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def has_other_pages(self) -> bool:
        return self.pages > 1

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first(self) -> int:
        """The position (from 1) of the first row shown; 0 when there is none."""
        return (self.number - 1) * self.per_page + 1 if self.count else 0

    @property
    def last(self) -> int:
        """The position of the last row on this page."""
        return min(self.count, self.number * self.per_page)

    @property
    def start(self) -> int:
        """The slice of the whole list this page shows: ``items[page.start:page.stop]``."""
        return (self.number - 1) * self.per_page

    @property
    def stop(self) -> int:
        return self.start + self.per_page

    def url(self, number: int) -> str:
        """The link to page ``number``, keeping every other parameter of the request."""
        head = f"{self.query}&" if self.query else ""
        return f"?{head}{self.param}={number}{self.anchor}"

    @property
    def previous_url(self) -> str:
        return self.url(self.number - 1) if self.has_previous else ""

    @property
    def next_url(self) -> str:
        return self.url(self.number + 1) if self.has_next else ""

    @property
    def links(self) -> list[tuple[int | None, str]]:
        """(number, url) of each page link to draw, (None, "") for a gap."""
        return [(n, self.url(n) if n else "") for n in self.numbers]


def window(number: int, pages: int, width: int = WINDOW) -> list[int | None]:
    """Page links: the first, ``width`` either side of ``number``, the last; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, number - width), min(pages, number + width) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def page_at(
    params: QueryDict | Mapping[str, str],
    count: int,
    per_page: int = PER_PAGE,
    *,
    param: str = "page",
    anchor: str = "",
    label: str = "",
) -> Paged[Any]:
    """Which page of ``count`` rows ``params[param]`` asks for (no rows loaded: slice
    ``items[page.start:page.stop]`` yourself, e.g. a queryset handed to code that adds its own
    ``select_related``). Malformed is page 1, past the end is the last page."""
    per_page = max(1, per_page)
    pages = max(1, -(-max(0, count) // per_page))
    number = min(as_int(params.get(param), lo=1, hi=10**9) or 1, pages)
    if isinstance(params, QueryDict):
        others = params.copy()
    else:
        others = QueryDict(mutable=True)
        others.update(dict(params))
    others.pop(param, None)
    return Paged(
        rows=[],
        number=number,
        pages=pages,
        count=max(0, count),
        per_page=per_page,
        param=param,
        query=others.urlencode(),
        anchor=anchor,
        label=label,
        numbers=window(number, pages),
    )


def paginate(
    params: QueryDict | Mapping[str, str],
    items: QuerySet[Any] | Sequence[T],
    per_page: int = PER_PAGE,
    *,
    param: str = "page",
    anchor: str = "",
    label: str = "",
    count: int | None = None,
) -> Paged[Any]:
    """One page of ``items`` as asked by ``params[param]`` (the request's GET): a queryset is
    counted once (or ``count`` is trusted when the caller already knows it) and one slice of it is
    loaded. A queryset must be ordered, or its pages may overlap."""
    if count is None:
        count = items.count() if isinstance(items, QuerySet) else len(items)
    page = page_at(params, count, per_page, param=param, anchor=anchor, label=label)
    return replace(page, rows=list(items[page.start : page.stop]))
