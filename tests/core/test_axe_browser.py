"""axe-core on every page: 0 serious and 0 critical accessibility findings, at 390 px and on a desktop.

The crawl of ``tests/crawl.py`` (every demo role and a visitor, every kind of page of the demo
district) opens each page in Debian's chromium; axe-core (``tests/axe.py``: a pinned version that
``make browser`` fetches, injected outside the page's Content-Security-Policy) runs on the whole
document with every ``<details>`` opened. Each finding is named with its rule, its impact, the page
and the first elements it concerns. axe runs once per kind of page and width: a kind another role
already passed is opened (its links are followed) but not checked again — the templates are the
same, and the whole check stays within a few minutes.

At 390 px, axe runs in the walk of ``tests/core/test_phone_width_browser.py``: one visit of each
page measures its width and runs axe (``phone_walk`` there), so the phone pages are not crawled
twice. This module walks the same roles on a desktop (``axe_walk``).
``LINLI_AXE_ROLES=demo-street,visitor`` walks only those roles (while fixing a page).
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.axe import AXE, NO_AXE, findings  # (other apps' page tests import AXE and findings from here)
from tests.conftest import CHROMIUM, cjk_fonts
from tests.crawl import LINKS, PASSWORD, ROLES, crawl, kind, load_demo_site, public_pages
from tests.phone import OPEN_DETAILS, PHONE, SETTLED
from tests.places.test_browser import ARGS

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}


def axe_walk(page: Any, base: str, seeds: list[str], who: str, checked: set[str]) -> tuple[list[str], list[str]]:
    """The crawl (``tests.crawl``) with axe-core's findings on each kind of page not in ``checked`` (which
    it fills); returns (problems, kinds visited)."""
    problems: list[str] = []
    last: list[Any] = []

    def open_page(path: str) -> int:
        last[:] = [page.goto(base + path)]
        return last[0].status if last[0] else 0

    def inspect(path: str, status: int) -> list[str]:
        page.evaluate(SETTLED)
        links = page.evaluate(LINKS) if status < 400 else []
        if kind(path) not in checked:
            checked.add(kind(path))
            page.evaluate(OPEN_DETAILS)
            problems.extend(f"{who} {path}: {f}" for f in findings(page))
        return links

    found, kinds = crawl(seeds, who, open_page, inspect, urlsplit(base).netloc)
    return found + problems, kinds


@pytest.fixture
def demo_site(transactional_db, settings, monkeypatch):
    return load_demo_site(settings, monkeypatch)


def sign_in(browser: Any, base: str, who: str, viewport: dict[str, int]) -> Any:
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    page.goto(base + "/accounts/login/")
    if who != "visitor":
        page.fill("#id_username", who)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/**")
        assert "/accounts/login/" not in page.url, who
    return page


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_every_page_has_no_serious_or_critical_axe_finding_on_a_desktop(live_server, demo_site):
    """On a desktop; the same check at 390 px runs in the phone walk of test_phone_width_browser.py."""
    from django.db import connection
    from playwright.sync_api import sync_playwright

    if connection.vendor != "sqlite":
        pytest.skip("what the browser shows does not depend on the database: checked in the SQLite run")
    assert cjk_fonts(), "fc-list :lang=zh is empty: install fonts-noto-cjk (make browser)"
    assert AXE.exists(), NO_AXE
    base = live_server.url
    walks = [("visitor", public_pages(demo_site)), *((who, demo_site) for who in ROLES)]
    only = [w for w in os.environ.get("LINLI_AXE_ROLES", "").split(",") if w]
    problems: list[str] = []
    visited: dict[str, list[str]] = {}
    checked: set[str] = set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for who, seeds in walks:
                if only and who not in only:
                    continue
                page = sign_in(browser, base, who, DESKTOP)
                found, visited[who] = axe_walk(page, base, seeds, f"{who} desktop", checked)
                problems += found
                page.context.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
    if not only:
        assert len(visited["demo-community"]) >= 30, visited["demo-community"]


CASES = [
    # (HTML, the rule axe must name: "" = no serious or critical finding)
    ('<main><h1>表单</h1><input type="text" name="q"></main>', "label"),
    ('<main><h1>图片</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main>', "image-alt"),
    ('<main><h1>颜色</h1><p style="color:#bbb;background:#fff">浅灰色的字看不清</p></main>', "color-contrast"),
    ("<main><h1>按钮</h1><button></button></main>", "button-name"),
    ('<main><h1>表单</h1><label for="q">搜索</label><input id="q" type="text"><p>正文</p></main>', ""),
]


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_axe_finds_what_a_person_cannot_use_and_passes_a_sound_page():
    """The check itself can fail: each broken snippet is named by its rule, the sound one passes."""
    from playwright.sync_api import sync_playwright

    assert AXE.exists(), NO_AXE
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport=PHONE, locale="zh-CN")
            for html, rule in CASES:
                page.set_content(f'<html lang="zh-Hans"><head><title>测试</title></head><body>{html}</body></html>')
                said = findings(page)
                if rule:
                    assert any(f.startswith(rule + " ") for f in said), (html, said)
                else:
                    assert said == [], (html, said)
        finally:
            browser.close()
