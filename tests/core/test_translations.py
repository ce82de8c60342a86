"""Chinese first: every string marked for translation has its Chinese, and the committed .mo is
compiled from the committed .po (fresh machines have no gettext to compile it)."""

from __future__ import annotations

import re
from pathlib import Path

import polib  # type: ignore[import-untyped]
import pytest
from django.utils import translation

from linli.core.management.commands.translations import locale_files, problems

ROOT = Path(__file__).resolve().parents[2]
TRANS_TAG = re.compile(r"""{%\s*(?:trans|translate)\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


def test_catalogue_is_complete_and_compiled():
    files = locale_files()
    assert [p.parent.parent.name for p in files] == ["zh_Hans"]
    for po in files:
        assert problems(po) == []


def test_every_template_string_is_in_the_catalogue():
    po = polib.pofile(str(locale_files()[0]))
    known = {e.msgid for e in po}
    missing = []
    for template in (ROOT / "linli").rglob("templates/**/*.html"):
        for match in TRANS_TAG.finditer(template.read_text(encoding="utf-8")):
            msgid = match.group(1)[1:-1]
            # makemessages writes a literal % of a {% trans %} string as %%
            if msgid not in known and msgid.replace("%", "%%") not in known:
                missing.append(f"{template.relative_to(ROOT)}: {msgid!r}")
    assert not missing, "run `make messages`:\n" + "\n".join(missing)


@pytest.mark.parametrize(("english", "chinese"), [("Sign in", "登录"), ("building", "楼栋")])
def test_chinese_is_served(english, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese


@pytest.mark.django_db
def test_pages_are_chinese_first_even_for_an_english_browser(client):
    r = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-Hans">' in r.content.decode()
    client.cookies["django_language"] = "en"
    r = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="en">' in r.content.decode()
