"""The crawl over every kind of page of the demo district, shared by the tests that look at all pages.

``load_demo_site()`` loads the demo district (``load_demo`` small, the consent story, a year of grid
events, sensors with a day of readings, the demo logins) and returns ``main_pages()``: the seeds, one
of each main page of the demo (community, compound, building, grid, project, survey, visits, ballots,
notice, events, queues, command centre, import, …). ``crawl()`` opens the seeds and every kind of page linked from them
(one page per kind of address: ``/places/building/12/`` and ``/places/building/13/`` are one kind)
through whatever opens pages — Playwright in the browser tests (``tests/core/test_phone_width_browser.py``,
``tests/core/test_axe_browser.py``), Django's test client in ``tests/core/test_one_language.py``
(``client_links()`` reads the same links out of the HTML) — and leaves the checks of each page to
its caller. Pages added later are picked up when a page links to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from io import StringIO
from typing import Any
from urllib.parse import urlsplit

from django.core.management import call_command

PASSWORD = "a-demo-password-for-browser-tests"
# one demo login per role (demo-locality holds the same role as demo-dept, at the street's office)
ROLES = ("demo-admin", "demo-street", "demo-community", "demo-grid", "demo-resident", "demo-operator", "demo-dept")
MAX_PAGES = 45  # kinds of page per role (the demo has about 30)
# Not pages: files, the API and its docs, Django's admin, language and sign-out forms, photos.
NOT_PAGES = re.compile(
    r"^/(api|admin|static|media|i18n|open311)/|/logout/|\.(xlsx|pdf|json|geojson|csv|png|jpg)$|/(photos?|pdf)/|/export"
)

# The links a person follows: the navigation, the breadcrumbs and the page itself (in a browser).
LINKS = r"""() => Array.from(document.querySelectorAll('header nav a[href], nav.crumbs a[href], main a[href]'))
  .filter(a => !a.hasAttribute('download') && !a.closest('.leaflet-container'))
  .map(a => a.href)"""


def kind(path: str) -> str:
    """One kind of page: numbers in the path are ids."""
    return re.sub(r"/\d+(?=/|$)", "/N", path)


def main_pages() -> list[str]:
    """The main pages of the loaded demo, whichever role may see them."""
    from linli.consult.models import Ballot, Notice, Survey
    from linli.governance.models import Event
    from linli.places import models as m
    from linli.renewal.models import Project

    out = ["/", "/places/", "/accounts/me/", "/renewal/", "/renewal/catalogue/", "/renewal/p/", "/consult/ballots/"]
    out += ["/governance/events/", "/governance/events/new/", "/governance/events/hotline/"]
    out += ["/governance/queue/command/", "/governance/queue/department/", "/dashboard/"]
    community = m.Community.objects.filter(name="劳动三村社区").first() or m.Community.objects.order_by("pk").first()
    assert community is not None
    district = m.District.objects.get()
    out += [f"/places/district/{district.pk}/", f"/places/street/{community.street_id}/"]
    out += [f"/places/community/{community.pk}/", f"/places/community/{community.pk}/import/"]
    out += [f"/governance/community/{community.pk}/division/"]
    compound = m.Compound.objects.filter(community=community).order_by("path").first()
    building = m.Building.objects.filter(community=community).order_by("path").first()
    grid = m.Grid.objects.filter(community=community).order_by("seq").first()
    if compound:
        out += [f"/places/compound/{compound.pk}/", f"/consult/ballots/compound/{compound.pk}/"]
        out += [f"/consult/ballots/compound/{compound.pk}/new/"]
    if building:
        out.append(f"/places/building/{building.pk}/")
    if grid:
        out.append(f"/places/grid/{grid.pk}/")
    for project in Project.objects.order_by("pk")[:2]:
        out += [f"/renewal/{project.pk}/", f"/renewal/p/{project.pk}/", f"/consult/projects/{project.pk}/consensus/"]
        out += [f"/consult/projects/{project.pk}/surveys/", f"/consult/projects/{project.pk}/visits/new/"]
        out.append(f"/consult/notices/project/{project.pk}/new/")
    out += [f"/consult/surveys/{pk}/" for pk in Survey.objects.order_by("pk").values_list("pk", flat=True)[:1]]
    for ballot in Ballot.objects.order_by("pk"):
        out.append(f"/consult/ballots/{ballot.pk}/")
    for notice in Notice.objects.order_by("pk")[:2]:
        out += [f"/consult/notices/{notice.pk}/", f"/consult/notices/{notice.pk}/public/"]
    # events: one at each step, the one with the longest description, one escalated
    events = Event.objects.order_by("pk")
    chosen = {e.pk for e in (events.filter(step=step).last() for step in ("collected", "dispatched", "handling")) if e}
    chosen |= {e.pk for e in (events.filter(escalation=2).first(), events.filter(step="evaluated").first()) if e}
    out += [f"/governance/events/{pk}/" for pk in sorted(chosen)]
    return out


def public_pages(seeds: Iterable[str]) -> list[str]:
    """The seeds a visitor (not signed in) starts from."""
    return ["/accounts/login/", *(s for s in seeds if s.startswith("/renewal/p/") or s.endswith("/public/"))]


def seen_ok(status: int, seed: bool) -> bool:
    """A linked page must open; a main page tried for a role may be refused (it is measured too)."""
    return status < 400 or (seed and status in (403, 404))


def crawl(
    seeds: Iterable[str],
    who: str,
    open_page: Callable[[str], int],
    inspect: Callable[[str, int], list[str]],
    host: str = "",
    max_pages: int = MAX_PAGES,
) -> tuple[list[str], list[str]]:
    """Open the seeds and every kind of page linked from them; returns (problems, kinds visited).

    ``open_page(path_and_query)`` opens a page and answers its HTTP status; ``inspect(path, status)``
    runs the caller's checks on the page just opened and returns its links (absolute or not).
    ``host``: the test server's ``netloc``; links to other hosts, ``tel:`` and ``mailto:`` are not followed.
    """
    queue: list[tuple[str, bool]] = [(s, True) for s in seeds]
    kinds: dict[str, str] = {}
    problems: list[str] = []
    while queue and len(kinds) < max_pages:
        url, seed = queue.pop(0)
        parts = urlsplit(url)
        if parts.scheme not in ("", "http", "https") or (parts.netloc and parts.netloc != host):
            continue  # tel:, mailto:, other sites
        path = parts.path or "/"
        if NOT_PAGES.search(path) or kind(path) in kinds:
            continue
        kinds[kind(path)] = path
        status = open_page(path + (f"?{parts.query}" if parts.query and not seed else ""))
        if not seen_ok(status, seed):
            problems.append(f"{who} {path}: HTTP {status} (linked from a page this role sees)")
            continue
        links = inspect(path, status)
        if status < 400:
            queue += [(href, False) for href in links]
    return problems, sorted(kinds)


class _Links(HTMLParser):
    """The ``href`` of every link in the navigation (``<nav>``) and in ``<main>``, as ``LINKS`` in a browser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = {"nav": 0, "main": 0}
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.depth:
            self.depth[tag] += 1
        elif tag == "a" and any(self.depth.values()):
            found = dict(attrs)
            if found.get("href") and "download" not in found:
                self.hrefs.append(str(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        if self.depth.get(tag):
            self.depth[tag] -= 1


def client_links(html: str) -> list[str]:
    """The links of a page rendered by Django's test client (what ``LINKS`` gives in a browser)."""
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


# The demo district as loaded by the first ``load_demo_site()`` of the run (SQLite only): a copy of
# the whole test database in memory, put back with SQLite's backup API (well under a second) by the
# next test that asks for the demo instead of loading it again (~10-30 s a load, five a run).
_DEMO_COPY: list[Any] = []


def load_demo_site(settings: Any, monkeypatch: Any) -> list[str]:
    """Load the demo district with its demo logins (password ``PASSWORD``) into the test database
    (a ``demo_site`` fixture of the test module calls it); returns ``main_pages()``.

    On SQLite outside a transaction (``transactional_db``) the first load of the run is copied and
    later calls put that copy back — the same rows, ids and passwords — when the test has written
    nothing before (no user yet); otherwise (PostgreSQL, ``db``) the demo is loaded again."""
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    settings.LINLI_MAP_TILE_URL = ""
    monkeypatch.setenv("LINLI_DEMO_PASSWORD", PASSWORD)
    copyable = connection.vendor == "sqlite" and not connection.in_atomic_block
    copyable = copyable and not get_user_model().objects.exists()  # nothing of the test's own to lose
    if copyable and _DEMO_COPY:
        connection.ensure_connection()
        _DEMO_COPY[0].backup(connection.connection)
        ContentType.objects.clear_cache()  # the copy's content types, not those made after the last flush
        return main_pages()
    out = StringIO()
    call_command("load_demo", scale=0.02, verbosity=0, stdout=out)
    call_command("load_demo_consent", verbosity=0, stdout=out)
    call_command("load_demo_events", events=300, verbosity=0, stdout=out)
    call_command("load_demo_sensing", token_file="-", verbosity=0, stdout=out)
    call_command("demo_logins", stdout=out)
    if copyable and not _DEMO_COPY:
        import sqlite3

        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        _DEMO_COPY.append(copy)
    return main_pages()
