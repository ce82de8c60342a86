"""The community page in a real browser: sign in, map outlines drawn, charts painted, language switch.

Drives Debian's /usr/bin/chromium through Playwright (never `playwright install`).
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

import ast
import re
import struct
from pathlib import Path
from typing import Any

import pytest

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.places import queries
from tests import factories as f
from tests.conftest import make_world

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FRAGMENT = Path(__file__).resolve().parents[2] / "linli" / "locale" / "zh_Hans" / "parts" / "pages.po"
PASSWORD = "a-long-browser-password"


def _po_entries(text: str) -> dict[str, str]:
    """msgid → msgstr of a simple .po file (no plurals, no contexts), header included."""
    out: dict[str, str] = {}
    key: str | None = None
    cur: dict[str, list[str]] = {}
    for line in [*text.splitlines(), ""]:
        line = line.strip()
        m = re.match(r'^(msgid|msgstr)\s+(".*")$', line)
        if m:
            key = m.group(1)
            if key == "msgid" and "msgstr" in cur:
                out["".join(cur["msgid"])] = "".join(cur["msgstr"])
                cur = {}
            cur[key] = [ast.literal_eval(m.group(2))]
        elif line.startswith('"') and key:
            cur[key].append(ast.literal_eval(line))
        elif not line or line.startswith("#"):
            key = None
    if "msgid" in cur and "msgstr" in cur:
        out["".join(cur["msgid"])] = "".join(cur["msgstr"])
    return out


def _write_mo(entries: dict[str, str], path: Path) -> None:
    """A GNU .mo catalogue (the format msgfmt writes), so the test needs no gettext tools."""
    items = sorted((k.encode(), v.encode()) for k, v in entries.items() if v or not k)
    ids = b"".join(k + b"\0" for k, _ in items)
    strs = b"".join(v + b"\0" for _, v in items)
    n = len(items)
    start = 7 * 4 + 16 * n
    koffsets, voffsets, ko, vo = [], [], 0, 0
    for k, v in items:
        koffsets += [len(k), start + ko]
        ko += len(k) + 1
        voffsets += [len(v), start + len(ids) + vo]
        vo += len(v) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + 8 * n, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + struct.pack(f"{2 * n}i", *koffsets) + struct.pack(f"{2 * n}i", *voffsets) + ids + strs)


@pytest.fixture
def chinese_catalogue(tmp_path: Path, settings: Any) -> dict[str, str]:
    """This page's translations, compiled from the fragment (the lead merges fragments later)."""
    entries = _po_entries(FRAGMENT.read_text(encoding="utf-8"))
    entries.setdefault("", "Content-Type: text/plain; charset=UTF-8\n")
    _write_mo(entries, tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo")
    settings.LOCALE_PATHS = [tmp_path / "locale", *settings.LOCALE_PATHS]
    settings.LINLI_MAP_TILE_URL = ""
    return entries


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Debian's chromium is not installed at {CHROMIUM}")
def test_community_page_draws_map_and_charts_and_switches_language(live_server, transactional_db,
                                                                   chinese_catalogue):
    from playwright.sync_api import sync_playwright

    heading_en = "Map of compounds and grids"
    heading_zh = chinese_catalogue[heading_en]
    assert heading_zh and heading_zh != heading_en

    w = make_world()
    w.grid_a.boundary = queries.square(29.5012, 106.5012, 150.0)
    w.grid_a.save()
    f.BuildingFactory(compound=w.compound_a, code="02", grid=w.grid_a, lat=29.5020, lon=106.5020)
    user = f.UserFactory(username="browser_worker")
    user.set_password(PASSWORD)
    user.save()
    grant_role(w.admin, user, Role.COMMUNITY_WORKER.value, w.comm_a)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live_server.url}/accounts/login/?next=/")
            page.fill("#id_username", "browser_worker")
            page.fill("#id_password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")
            page.click(f"a[href='/places/community/{w.comm_a.pk}/']")
            page.wait_for_url(re.compile(rf".*/places/community/{w.comm_a.pk}/$"))

            page.wait_for_selector("#map svg path", state="attached", timeout=15_000)
            page.wait_for_selector("#chart-decade canvas", state="attached", timeout=15_000)
            paths = page.eval_on_selector_all("#map svg path", "els => els.map(e => e.getAttribute('d') || '')")
            assert len(paths) >= 3, "compound, grid and at least one building"
            assert all(len(d) > 4 for d in paths)
            assert page.get_attribute("#map", "data-features") == "4"  # compound, grid, two buildings
            painted = page.evaluate("""() => {
                const c = document.querySelector('#chart-decade canvas');
                if (!c || !c.width || !c.height) return 0;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                return n; }""")
            assert painted > 100, "the bar chart painted something"
            assert page.locator("#chart-grid canvas").count() == 1
            page.screenshot(path="/tmp/linli-browser-community.png", full_page=True)

            assert page.get_attribute("html", "lang") == "zh-Hans"
            assert page.inner_text("#map-h").strip() == heading_zh
            page.click("[data-testid=lang-switch]")
            page.wait_for_function("document.documentElement.lang === 'en'")
            assert page.inner_text("#map-h").strip() == heading_en
            page.wait_for_selector("#map svg path", state="attached", timeout=15_000)
            page.click("[data-testid=lang-switch]")
            page.wait_for_function("document.documentElement.lang === 'zh-Hans'")
            assert page.inner_text("#map-h").strip() == heading_zh
            assert errors == []
        finally:
            browser.close()
