"""Every page fits a 390 px phone with the real Chinese font, for every role.

The demo district (``load_demo`` small, the consent story, a year of grid events, the demo logins)
is opened in Debian's chromium at 390 × 844 by each demo login and by a visitor. For each role the
test walks the links of the navigation, the breadcrumbs and the page itself (one page per kind of
address: ``/places/building/12/`` and ``/places/building/13/`` are one kind), starting from the
main pages of the demo (community, compound, building, grid, project, survey, visits, ballots,
notice, events, queues, command centre, import, …). On each page, with every ``<details>`` closed
and then opened:

* ``document.documentElement.scrollWidth <= 390`` — nothing makes the page scroll sideways;
* no text is squeezed to a character or two per line (a link in a row too narrow for it);
* no text is cut off: every run of characters (``Range.getClientRects`` of each text node, i.e. the
  boxes of the glyphs, not of their containers) lies inside the viewport or inside a scroll
  container it can be scrolled to (a wide table in its ``.table-wrap``), and inside every ancestor
  that hides overflow.

The same visit runs axe-core (``tests/axe.py``) on each kind of page not checked yet at 390 px — the
phone half of ``tests/core/test_axe_browser.py`` (which walks the desktop), so the phone pages are
crawled once for both checks: 0 serious and 0 critical findings, with every ``<details>`` opened.

Pages added later are picked up when a page links to them. The Chinese font must be installed
(``tests/conftest.py`` fails a browser test without one; ``make browser`` installs fonts-noto-cjk).
``LINLI_SCREENSHOTS=<dir>`` saves a full-page screenshot of each page that does not fit;
``LINLI_WIDTH_ROLES=demo-street,visitor`` (or ``LINLI_AXE_ROLES``) walks only those roles (while fixing a page).
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.axe import AXE, NO_AXE, findings
from tests.conftest import CHROMIUM, cjk_fonts
from tests.crawl import LINKS, PASSWORD, ROLES, crawl, kind, load_demo_site, public_pages
from tests.phone import CLIPPED, OPEN_DETAILS, PHONE, SETTLED, WIDE
from tests.places.test_browser import ARGS

pytestmark = pytest.mark.browser

# The most of a phone's height the header may take (issue 12: a wrapped navigation took 20–26 %).
HEADER_SHARE = 0.12


def walk(
    page: Any, base: str, seeds: Iterable[str], who: str, shots: str | None, axe_checked: set[str]
) -> tuple[list[str], list[str]]:
    """Open the seeds and every kind of page linked from them (``tests.crawl``); returns (problems, kinds visited).

    Each page is measured, and axe-core runs on it (details open) when its kind is not in
    ``axe_checked`` yet (which it fills): its findings are among the problems, marked "axe"."""
    problems: list[str] = []
    response: list[Any] = []

    def open_page(path: str) -> int:
        response[:] = [page.goto(base + path)]
        return response[0].status if response[0] else 0

    def inspect(path: str, status: int) -> list[str]:
        page.evaluate(SETTLED)  # charts and maps size themselves after load
        header = page.evaluate("(document.querySelector('header.top') || document.body).getBoundingClientRect().height")
        if header > HEADER_SHARE * PHONE["height"]:  # one line with the menu button, not a wrapped navigation
            problems.append(f"{who} {path}: the header takes {header:.0f} px of the {PHONE['height']} px screen")
        for opened in (False, True):
            if opened:
                if not page.evaluate(OPEN_DETAILS):
                    break
                page.evaluate(SETTLED)
            width = page.evaluate("document.documentElement.scrollWidth")
            wide = page.evaluate(WIDE) if width > PHONE["width"] else []
            cut = page.evaluate(CLIPPED)
            if width > PHONE["width"] or cut:
                state = "details open" if opened else "as loaded"
                problems.append(f"{who} {path} ({state}): {width} px wide {wide} clipped {cut}")
                if shots:
                    name = re.sub(r"\W+", "_", f"{who}{path}{'-open' if opened else ''}")
                    page.screenshot(path=os.path.join(shots, f"{name}.png"), full_page=True)
                break
        links = page.evaluate(LINKS) if status < 400 else []
        if kind(path) not in axe_checked:
            axe_checked.add(kind(path))
            if page.evaluate(OPEN_DETAILS):  # still closed when the width check stopped at a problem
                page.evaluate(SETTLED)
            problems.extend(f"{who} {path}: axe: {f}" for f in findings(page))
        return links

    found, kinds = crawl(seeds, who, open_page, inspect, host=urlsplit(base).netloc)
    return found + problems, kinds


@pytest.fixture
def demo_site(transactional_db, settings, monkeypatch):
    return load_demo_site(settings, monkeypatch)


def rendered_fonts(page: Any, selector: str) -> dict[str, int]:
    """The fonts chromium really drew ``selector``'s text with (family → glyphs), through the
    DevTools protocol: what is on the screen, not what the CSS asks for."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {f["familyName"]: f["glyphCount"] for f in fonts}


def visit_as(browser: Any, base: str, who: str, seeds: list[str], locale: str, errors: list[str]) -> Any:
    """A phone of ``who`` (a demo login, or "visitor"), signed in, on the login page first."""
    ctx = browser.new_context(viewport=PHONE, locale=locale)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(f"{who} {page.url}: {e}"))
    page.goto(base + "/accounts/login/")
    if locale.startswith("zh"):
        # the Chinese heading is drawn with the CJK font, not with boxes or a fallback's glyphs
        fonts = rendered_fonts(page, "main h1")
        assert any("CJK" in family for family in fonts), fonts
    if who != "visitor":
        page.fill("#id_username", who)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/**")
        assert "/accounts/login/" not in page.url, who
    return page


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_every_page_fits_a_390px_phone_for_every_role_with_no_serious_axe_finding(live_server, demo_site):
    from django.db import connection
    from playwright.sync_api import sync_playwright

    if connection.vendor != "sqlite":
        pytest.skip("the layout does not depend on the database: measured in the SQLite run")
    assert cjk_fonts(), "fc-list :lang=zh is empty: install fonts-noto-cjk (make browser)"
    assert AXE.exists(), NO_AXE
    base = live_server.url
    shots = os.environ.get("LINLI_SCREENSHOTS")
    public = public_pages(demo_site)
    walks = [("visitor", public, "zh-CN"), *((who, demo_site, "zh-CN") for who in ROLES)]
    walks.append(("demo-street", demo_site, "en-GB"))  # English words do not break like Chinese
    only = [w for r in ("LINLI_WIDTH_ROLES", "LINLI_AXE_ROLES") for w in os.environ.get(r, "").split(",") if w]
    problems: list[str] = []
    errors: list[str] = []
    visited: dict[str, list[str]] = {}
    axe_checked: set[str] = set()  # kinds of page axe passed at 390 px (by any role)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for who, seeds, locale in walks:
                if only and who not in only:
                    continue
                page = visit_as(browser, base, who, seeds, locale, errors)
                if not locale.startswith("zh"):
                    page.click("[data-testid=lang-switch]")
                    page.wait_for_selector("html[lang=en]")
                name = who if locale.startswith("zh") else f"{who} (English)"
                found, visited[name] = walk(page, base, seeds, name, shots, axe_checked)
                problems += found
                page.context.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
    assert not errors, errors
    if only:
        return
    # the walk really covered the product, role by role
    assert len(visited["demo-community"]) >= 30, visited["demo-community"]
    assert {"/dashboard/", "/governance/queue/command/", "/places/community/N/import/"} <= set(visited["demo-street"])
    assert "/renewal/p/N/" in visited["visitor"] and "/accounts/login/" in visited["visitor"]
    assert len(visited["demo-street (English)"]) >= 30


CASES = [
    # (HTML, what the checks must say: "" = fits)
    ('<div style="width:6rem;overflow:hidden;white-space:nowrap">很长很长很长很长的小区名称</div>', "cut by div"),
    (
        '<div style="width:6rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">劳动三村小区1栋2单元</div>',
        "cut by",
    ),
    ('<div style="height:1.2em;overflow:hidden">第一行<br>第二行被截掉</div>', "cut by div"),
    ('<p style="position:relative;left:300px">跑到屏幕外面去了</p>', "outside the screen"),
    ('<nav style="display:flex;width:4rem"><a href="#">地点管理</a><a href="#">改造项目</a></nav>', "squeezed"),
    (
        '<div style="overflow-x:auto"><table style="white-space:nowrap"><tr><td>'
        + "很宽的表格" * 30
        + "</td></tr></table></div>",
        "",
    ),
    (
        '<span style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)" class="sr-only">'
        "只给屏幕阅读器的说明文字</span>",
        "",
    ),
    (
        '<details><summary>展开</summary><div style="width:3rem;overflow:hidden;white-space:nowrap">'
        "藏起来的长文字很长</div></details>",
        "",
    ),
    ("<p>劳动三村社区的普通段落,文字在手机上自动换行,一个字也不会被截掉。</p>", ""),
    ('<p style="width:10rem">一行写不下的链接:<a href="#">公开页面</a></p>', ""),  # wraps at the line's end
]


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_the_checks_see_cut_squeezed_and_offscreen_text_and_allow_what_scrolls():
    """The measuring itself: each broken snippet is caught, each sound one passes (the checks can fail)."""
    from playwright.sync_api import sync_playwright

    assert cjk_fonts(), "fc-list :lang=zh is empty: install fonts-noto-cjk (make browser)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport=PHONE, locale="zh-CN")
            for html, expected in CASES:
                page.set_content(
                    '<html lang="zh-Hans"><body style="margin:0;font-family:\'Noto Sans CJK SC\'">'
                    f"<main>{html}</main></body></html>"
                )
                page.evaluate(SETTLED)
                said = " ".join(page.evaluate(CLIPPED))
                if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
                    said += " wider than the phone"
                if expected:
                    assert expected in said, (html, said)
                else:
                    assert said == "", (html, said)
            page.set_content("<main>" + CASES[7][0] + "</main>")
            assert page.evaluate(OPEN_DETAILS) == 1 and page.evaluate(CLIPPED)  # opened, the cut text is seen
        finally:
            browser.close()
