"""Merge translation fragments and compile .po → .mo without GNU gettext (polib).

    manage.py translations            fill linli/locale/zh_Hans/…/django.po from parts/*.po, compile
    manage.py translations --check    exit 1 if anything is untranslated or the .mo is stale

Fresh machines need no gettext: the compiled .mo is committed (docs/architecture.md).
`make messages` first runs makemessages (which does need gettext) to collect new strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib  # type: ignore[import-untyped]
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def locale_files() -> list[Path]:
    return sorted(Path(settings.LOCALE_PATHS[0]).glob("*/LC_MESSAGES/django.po"))


def problems(po_path: Path) -> list[str]:
    po = polib.pofile(str(po_path))
    out = [f"untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
    out += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        return [*out, f"{mo_path} is missing"]
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in polib.mofile(str(mo_path))
    }
    wanted = {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in po.translated_entries()}
    if compiled != wanted:
        stale = sorted(str(k[1]) for k in set(compiled.items()) ^ set(wanted.items()))[:5]
        out.append(f"{mo_path.name} is stale (differs at {stale}); run manage.py translations")
    return out


class Command(BaseCommand):
    help = "Merge parts/*.po into django.po and compile the .mo (no gettext needed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        failed = False
        for po_path in locale_files():
            if not check:
                po = polib.pofile(str(po_path))
                parts = sorted((po_path.parent.parent / "parts").glob("*.po"))
                known = {(e.msgctxt, e.msgid): e for e in po}
                for part in parts:
                    for entry in polib.pofile(str(part)):
                        target = known.get((entry.msgctxt, entry.msgid))
                        if target is None or (target.translated() and not target.fuzzy):
                            continue
                        if target.msgid_plural and (entry.msgstr_plural or entry.msgstr):
                            # Chinese has one plural form (nplurals=1)
                            target.msgstr_plural = {0: entry.msgstr_plural.get(0) or entry.msgstr}
                        elif entry.msgstr:
                            target.msgstr = entry.msgstr
                        else:
                            continue
                        if target.fuzzy:
                            target.flags.remove("fuzzy")
                po.save()
                po.save_as_mofile(str(po_path.with_suffix(".mo")))
            found = problems(po_path)
            for p in found:
                self.stderr.write(f"{po_path}: {p}")
            failed |= bool(found)
            if not found:
                self.stdout.write(f"{po_path.parent.parent.name}: OK")
        if failed:
            raise CommandError("translations incomplete / 翻译不完整")
