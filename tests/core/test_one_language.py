"""One language per screen: a Chinese page carries no English, an English page no Chinese (issue 12).

Every demo role (and a visitor) walks every kind of page of the demo district (``tests/crawl.py``,
the crawl of the browser tests, here through Django's test client: the words, not the layout) once in
Chinese (the default) and once in English. The text a person sees is read from the HTML: the text
of the page outside ``<script>``, ``<style>``, ``<template>``, the attributes that are shown or read
aloud (``placeholder``, ``title``, ``aria-label``, ``alt``, a button's ``value``) and nothing else.

How the test tells the product's own words from people's data and proper names:

* **Data** is what is stored in the database: every text column of Linli's tables (names of places
  and people, descriptions, notes, user names, codes …), except the *other language's half of a
  bilingual pair* (``name``/``name_en``, ``title_zh``/``title_en``: a Chinese page must show ``name``,
  an English one ``name_en``), except slug and choice columns (``basic.awnings``, ``collected``:
  codes a page must show as their names). Places' Chinese names stay data on English pages too:
  proper names (九龙坡区 is its name). A word of the page that is part of such a value is data.
* **The language switch** names each language in itself (``English`` on a Chinese page, ``中文`` on an
  English one). Nothing else is let through for being marked ``lang="en"``: a second line in the other
  language is what this test is about, however it is marked.
* **Codes, units and brands** (``ALLOWED`` below): API, PDF, Excel, QR, m², …; anything with a digit
  (case numbers, IDs, ``2栋``) is a code.

A Chinese page fails on any other run of two or more Latin letters; an English page on any other
Chinese character.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models

from tests.crawl import ROLES, client_links, crawl, kind, load_demo_site, public_pages

# Codes, units, brands and names of standards a Chinese page may show as they are.
ALLOWED = {
    "api", "pdf", "excel", "xlsx", "csv", "qr", "json", "geojson", "xml", "open311", "georeport", "id", "ids",
    "m²", "km", "kg", "sms", "wechat", "gps", "url", "http", "https", "www", "linli", "echarts", "leaflet",
    "openstreetmap", "osm", "ok", "gb", "mb", "kb", "pm", "am", "utc", "wgs", "gcj", "cad", "png", "jpg", "jpeg",
    "no", "vs", "ai", "webp", "heic", "gbk", "tsg",
}  # fmt: skip
LANGUAGE_NAMES = {"English", "中文"}
BRAND = "邻里"  # Linli, the product's name: a proper name in both languages
LATIN = re.compile(r"[A-Za-z][A-Za-z'’]+")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")  # Chinese characters (punctuation is no word)
SHOWN_ATTRS = ("placeholder", "title", "aria-label", "alt")
SKIP = {"script", "style", "template", "noscript"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Texts(HTMLParser):
    """The texts of a page a person sees or hears, each with the language marked around it."""

    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []  # (tag, language in force)
        self.skip = 0
        self.page_lang = page_lang
        self.texts: list[tuple[str, str]] = []  # (text, language in force)

    def lang(self) -> str:
        return self.stack[-1][1] if self.stack else self.page_lang

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        language = found.get("lang") or self.lang()
        if tag == "html":
            self.page_lang = language
        if self.skip == 0:
            for name in SHOWN_ATTRS:
                if found.get(name):
                    self.texts.append((found[name], language))
            if tag == "input" and found.get("type") in ("submit", "button", "reset") and found.get("value"):
                self.texts.append((found["value"], language))
        if tag in VOID:
            return
        if tag in SKIP:
            self.skip += 1
        self.stack.append((tag, language))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()
            self.skip -= tag in SKIP

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        for i in range(len(self.stack) - 1, -1, -1):  # close what the end tag closes (HTML's optional ends)
            if self.stack[i][0] == tag:
                for closed, _ in self.stack[i:]:
                    self.skip -= closed in SKIP
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self.skip == 0 and data.strip():
            self.texts.append((data, self.lang()))


def shown_texts(html: str) -> list[tuple[str, str]]:
    """(text, language marked around it) for every text of the page a person sees or hears."""
    parser = _Texts("zh-Hans")
    parser.feed(html)
    return parser.texts


def stored_texts(english_page: bool) -> str:
    """Every value people entered or that names a place or person (see the module's docstring),
    one a line: the data a page of this language may show as it is."""
    values: set[str] = set()
    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        if not model.__module__.startswith("linli.") or model._meta.db_table not in tables:
            continue
        names = {f.name for f in model._meta.concrete_fields}
        proper = model._meta.app_label == "places"
        columns = []
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField) or field.choices:
                continue
            if isinstance(field, models.SlugField) or field.name in ("slug", "password"):
                continue
            name = field.name
            if not english_page and name.endswith("_en"):
                continue  # the English half of a bilingual pair
            base = name[:-3] if name.endswith("_zh") else name
            if english_page and f"{base}_en" in names and not proper:
                continue  # the Chinese half of a bilingual pair (places keep their Chinese names)
            columns.append(name)
        if columns:
            for row in model.objects.values_list(*columns):
                values.update(str(v) for v in row if v)
    return "\n".join(sorted(values))


def strays(html: str, english_page: bool, data: str, cache: dict[str, bool]) -> list[str]:
    """The words of the other language on a page, outside data, codes and marked text."""
    found: list[str] = []
    for text, _language in shown_texts(html):
        if text.strip() in LANGUAGE_NAMES:
            continue  # the language switch
        if english_page:
            words = [w for w in CJK.findall(text) if w != BRAND]
        else:
            words = [w for w in LATIN.findall(text) if w.lower() not in ALLOWED]
        for word in words:
            if word not in cache:
                cache[word] = word in data or (not english_page and _code_part(word, text))
            if not cache[word]:
                found.append(f"{word!r} in {text.strip()[:60]!r}")
    return found


def _code_part(word: str, text: str) -> bool:
    """A run of letters inside a code: ``#3997``, ``JLP-2026-0012``, ``demo-street``, ``a.b@c``."""
    for token in re.findall(r"[\w.@/#:+-]+", text):
        if word in token and token != word and (re.search(r"\d", token) or "@" in token):
            return True
    return False


@pytest.fixture
def demo_site(transactional_db, settings, monkeypatch):
    return load_demo_site(settings, monkeypatch)


def _walk(client: Any, who: str, seeds: list[str], english: bool, data: str) -> tuple[dict[str, list[str]], list[str]]:
    from django.contrib.auth import get_user_model

    client.logout()
    client.cookies.clear()
    if english:
        client.cookies["django_language"] = "en"
    if who != "visitor":
        client.force_login(get_user_model().objects.get(username=who))
    found: dict[str, list[str]] = defaultdict(list)
    cache: dict[str, bool] = {}
    last: list[Any] = []

    def open_page(path: str) -> int:
        last[:] = [client.get(path, HTTP_ACCEPT_LANGUAGE="zh-CN")]
        return last[0].status_code

    def inspect(path: str, status: int) -> list[str]:
        response = last[0]
        if status != 200 or "html" not in response.get("Content-Type", ""):
            return []  # a redirect (a visitor sent to sign in) has no page to read
        html = response.content.decode()
        assert ('<html lang="en">' in html) == english, (who, path)
        for stray in strays(html, english, data, cache):
            found[kind(path)].append(stray)
        return client_links(html)

    problems, kinds = crawl(seeds, who, open_page, inspect, host="testserver")
    return found, problems + [f"only {len(kinds)} kinds of page"] * (len(kinds) < 3)


def _report(found: dict[str, dict[str, list[str]]]) -> str:
    lines = []
    for page, by_role in sorted(found.items()):
        words = sorted({w for strays in by_role.values() for w in strays})
        lines.append(f"{page} ({', '.join(sorted(by_role))}):")
        lines += [f"    {w}" for w in words[:40]]
    return "\n".join(lines)


@pytest.mark.parametrize("english", [False, True], ids=["chinese-pages", "english-pages"])
def test_every_page_speaks_one_language(client, demo_site, english):
    data = stored_texts(english)
    walks = [("visitor", public_pages(demo_site)), *((who, demo_site) for who in ROLES)]
    found: dict[str, dict[str, list[str]]] = defaultdict(dict)
    problems: list[str] = []
    for who, seeds in walks:
        strays_by_page, broken = _walk(client, who, seeds, english, data)
        problems += broken
        for page, strays_of_page in strays_by_page.items():
            found[page][who] = strays_of_page
    assert not problems, problems
    assert not found, (
        ("English on Chinese pages" if not english else "Chinese on English pages") + ":\n" + _report(found)
    )


CASES = [
    # (HTML, English page?, the stray words the check must find)
    ("<main><p>信息收集 Collected</p></main>", False, ["Collected"]),
    ("<main><p>是 yes</p><p>导出 Excel、PDF</p></main>", False, ["yes"]),
    ('<main><p title="Open">未结</p><input placeholder="Search"></main>', False, ["Open", "Search"]),
    ('<main><button lang="en">English</button><script>var x = "hello"</script></main>', False, []),
    (
        '<main><span lang="zh-Hans">缺少字段</span><br><span lang="en">A field is missing</span></main>',
        False,
        ["field", "is", "missing"],
    ),
    ("<main><p>案件 #3997 JLP-2026-0012 m²</p></main>", False, []),
    ("<main><p>劳动三村社区 Open</p></main>", True, []),  # 劳动三村社区: a place's name, data
    ("<main><p>Open 未结</p><p>魏**、付**</p></main>", True, ["未结", "魏", "付"]),
    ('<main><button lang="zh-Hans">中文</button><p>Case “A”,</p><p lang="zh-Hans">缺少</p></main>', True, ["缺少"]),
]


@pytest.mark.parametrize(("html", "english", "expected"), CASES)
def test_the_check_sees_stray_words_and_allows_codes_data_and_marked_text(html, english, expected):
    page = f'<html lang="{"en" if english else "zh-Hans"}"><body>{html}</body></html>'
    said = strays(page, english, "劳动三村社区\nJLP-2026-0012", {})
    assert [s.split("'")[1] for s in said] == expected, said
