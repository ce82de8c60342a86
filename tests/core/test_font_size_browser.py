"""The browser's font setting counts (适老化, issue 12): sizes are in rem, so a browser set to 24 px
shows 24 px text — no ``:root{font-size:16px}`` overriding the reader's choice.

The default font size is set the way a person sets it in the browser's settings, through the
DevTools protocol (``Page.setFontSizes``, what chrome://settings/fonts changes), before the page
loads. Checked on real pages at 390 px and on a snippet with the site's stylesheet: the root and
the body follow the setting, no text is smaller than 0.875 of it (fine print and screen-reader text
aside), radio buttons and check boxes are at least 1.25rem, and buttons and fields at least 44 px.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

from typing import Any

import pytest

from tests.conftest import CHROMIUM, cjk_fonts
from tests.phone import PHONE, SETTLED, fits
from tests.places.test_browser import ARGS

pytestmark = pytest.mark.browser

# font sizes on the page: the root's, the body's, and the smallest visible text (with its element)
SIZES = r"""() => {
  const px = el => parseFloat(getComputedStyle(el).fontSize);
  let smallest = Infinity, where = '';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT,
    {acceptNode: n => n.data.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const skip = 'script, style, noscript, template, option, .sr-only, .skip, .fine, [hidden], ' +
                 'details:not([open]) > :not(summary)';
    if (!el || el.closest(skip)) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility !== 'visible') continue;
    if (px(el) < smallest) {
      smallest = px(el);
      where = el.tagName.toLowerCase() + '.' + el.className + ' "' + n.data.trim().slice(0, 20) + '"';
    }
  }
  return {root: px(document.documentElement), body: px(document.body), smallest, where};
}"""

# controls shorter than ``min`` px (buttons, fields, the menu button, page links)
SHORT = r"""(min) => Array.from(document.querySelectorAll(
    'button, .button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea, ' +
    'summary, .pager a'))
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.height < min - 0.5; })
  .map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().height) + ' px')"""


def open_with_font_size(browser: Any, url: str, size: int, **context: Any) -> Any:
    """A phone whose browser is set to a default font size of ``size`` px, on ``url``."""
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", **context)
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Page.enable")
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": size, "fixed": size}})
    page.goto(url)
    page.evaluate(SETTLED)
    return page


@pytest.fixture
def site(live_server: Any, transactional_db: Any, settings: Any) -> str:
    from tests.conftest import make_world

    settings.LINLI_MAP_TILE_URL = ""
    make_world()
    return str(live_server.url)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_a_browser_set_to_24px_shows_24px_text(site: str) -> None:
    from playwright.sync_api import sync_playwright

    assert cjk_fonts(), "fc-list :lang=zh is empty: install fonts-noto-cjk (make browser)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for path in ("/accounts/login/", "/renewal/p/"):
                for size in (16, 24):
                    page = open_with_font_size(browser, site + path, size)
                    got = page.evaluate(SIZES)
                    assert got["root"] == size and got["body"] == size, (path, size, got)
                    assert got["smallest"] >= 0.875 * size - 0.01, (path, size, got)
                    assert not page.evaluate(SHORT, 44), (path, size)
                    if size == 24:
                        fits(page)  # the larger text still fits a 390 px phone
                        assert not page.evaluate(SHORT, 2.75 * 24), (path, "targets grow with the text")
                    page.context.close()
        finally:
            browser.close()


FORM = """<!doctype html><html lang="zh-Hans"><head><link rel="stylesheet" href="{css}"></head><body><main>
<form><fieldset><legend>是否同意加装电梯</legend>
<label><input type="radio" name="c" value="yes"> 同意</label>
<label><input type="radio" name="c" value="no"> 不同意</label>
<label><input type="checkbox" name="o"> 仅看逾期</label></fieldset>
<p class="muted"><small>小字说明</small> <span class="badge">徽标</span></p>
<button type="submit">提交</button></form></main></body></html>"""


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_radio_buttons_and_small_print_follow_the_setting(live_server: Any) -> None:
    from playwright.sync_api import sync_playwright

    css = f"{live_server.url}/static/linli/site.css"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for size in (16, 24):
                page = open_with_font_size(browser, f"{live_server.url}/static/linli/site.css", size)
                page.set_content(FORM.format(css=css), wait_until="load")
                page.wait_for_function(
                    "() => document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 50"
                )
                page.evaluate(SETTLED)
                for box in page.locator("input[type=radio], input[type=checkbox]").all():
                    b = box.bounding_box()
                    assert b and b["width"] >= 1.25 * size - 0.5 and b["height"] >= 1.25 * size - 0.5, (size, b)
                got = page.evaluate(SIZES)
                assert got["smallest"] >= 0.875 * size - 0.01, (size, got)  # <small> and badges too
                page.context.close()
        finally:
            browser.close()
