"""长辈模式 (large text, issue 12): ``<html class="elder">`` gives at least 20 px text, targets at
least 44 px tall, near-black text on white (≥ 7:1) and links that show they are links without a
hover — on real pages, signed out and signed in, at 390 px, and the pages still fit the phone.

Which people get the class (their preference) is the accounts app's; here the class is what counts:
the same pages are measured without it (to show the test can tell) and with it.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from tests.conftest import CHROMIUM, cjk_fonts
from tests.core.test_font_size_browser import SHORT, SIZES
from tests.phone import OPEN_DETAILS, PHONE, SETTLED, fits
from tests.places.test_browser import ARGS

pytestmark = pytest.mark.browser

# WCAG contrast of each visible text's colour on the colour behind it (the first ancestor with a
# background), the lowest first
CONTRAST = r"""() => {
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
  const lum = ([r, g, b]) => 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  const behind = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
  const out = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT,
    {acceptNode: n => n.data.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const skip = '.sr-only, script, style, option, [hidden], button, .button, .pager a[aria-current], ' +
                 '.leaflet-container';
    if (!el || el.closest(skip)) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(behind(el));
    const what = el.tagName.toLowerCase() + '.' + el.className + ' "' + n.data.trim().slice(0, 20) + '"';
    out.push([(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), what]);
  }
  return out.sort((x, y) => x[0] - y[0]).slice(0, 3);
}"""

# links in the page's text that do not look like links (no underline) until hovered
PLAIN_LINKS = r"""() => Array.from(document.querySelectorAll('main a[href]:not(.button):not([aria-current])'))
  .filter(a => a.getBoundingClientRect().width > 0 && !getComputedStyle(a).textDecorationLine.includes('underline'))
  .map(a => a.textContent.trim().slice(0, 20))"""

ELDER = "() => document.documentElement.classList.add('elder')"


@pytest.fixture
def signed_in(live_server: Any, transactional_db: Any, settings: Any) -> tuple[str, dict[str, Any]]:
    from django.conf import settings as django_settings
    from django.test import Client

    from tests.conftest import make_world

    settings.LINLI_MAP_TILE_URL = ""
    world = make_world()
    client = Client()
    client.force_login(world.users["community_worker"])
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    url = str(live_server.url)
    return url, {"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": url}


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_large_text_mode_reads_big_clear_and_fits_a_phone(signed_in: tuple[str, dict[str, Any]]) -> None:
    from playwright.sync_api import sync_playwright

    base, cookie = signed_in
    assert cjk_fonts(), "fc-list :lang=zh is empty: install fonts-noto-cjk (make browser)"
    pages = {"visitor": ["/accounts/login/", "/renewal/p/"], "worker": ["/governance/events/", "/renewal/", "/runs/"]}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for who, paths in pages.items():
                ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
                if who == "worker":
                    ctx.add_cookies([cookie])
                page = ctx.new_page()
                for path in paths:
                    page.goto(base + path)
                    assert "/accounts/login/" not in page.url or path == "/accounts/login/", page.url
                    page.evaluate(SETTLED)
                    plain = page.evaluate(SIZES)
                    assert plain["body"] == 16, (path, plain)  # without the class: the browser's size
                    page.evaluate(ELDER)
                    page.evaluate(SETTLED)
                    big = page.evaluate(SIZES)
                    assert big["body"] >= 20 and big["smallest"] >= 20, (path, big)
                    assert not page.evaluate(SHORT, 44), (path, page.evaluate(SHORT, 44))
                    lowest = page.evaluate(CONTRAST)
                    assert lowest and lowest[0][0] >= 7, (path, lowest)
                    assert not page.evaluate(PLAIN_LINKS), (path, page.evaluate(PLAIN_LINKS))
                    fits(page)
                    page.click("[data-testid=menu-button]")  # the menu opens, large, and fits too
                    assert page.locator(".mainnav a, .menu-body button").first.is_visible()
                    assert not page.evaluate(SHORT, 44), path
                    page.evaluate(OPEN_DETAILS)
                    fits(page)
                ctx.close()
        finally:
            browser.close()
