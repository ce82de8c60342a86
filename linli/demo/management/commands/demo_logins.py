"""``manage.py demo_logins``: one demo user per kind of work, with its role at a demo place.

Idempotent: users are created once, their password is (re)set, grants already held are kept.
The password is ``LINLI_DEMO_PASSWORD`` if set, else generated once into ``var/demo_password``
(``settings.VAR_DIR``, git-ignored, mode 600) so it never lands in the repository.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Model

from linli.accounts.models import Department, User
from linli.accounts.roles import ROLES, Role
from linli.accounts.services import ensure_user, grant_role, place_label
from linli.demo import places as demo_places
from linli.places import models as m

URL = "http://127.0.0.1:8000/"
ROOT_USER = "demo-root"


def demo_password() -> str:
    value = os.environ.get("LINLI_DEMO_PASSWORD", "").strip()
    if value:
        return value
    path = settings.VAR_DIR / "demo_password"
    if not path.exists():
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def logins_by_place() -> dict[str, tuple[Role, Model]] | None:
    """username → (role, place) on the loaded district; None when no district is loaded.

    Prefers the demo's own places (谢家湾街道, 劳动三村社区); on another district, the first of each.
    """
    district = m.District.objects.order_by("path").first()
    if district is None:
        return None
    street = (
        m.Street.objects.filter(district=district, name="谢家湾街道").first()
        or m.Street.objects.filter(district=district).order_by("path").first()
    )
    community = (
        m.Community.objects.filter(street=street, name=demo_places.LAODONG).first()
        or m.Community.objects.filter(street=street).order_by("path").first()
    )
    if street is None or community is None:
        return None
    compound = m.Compound.objects.filter(community=community).order_by("path").first()
    grid = m.Grid.objects.filter(community=community).order_by("seq").first()
    # demo-resident owns a home in the unit of the lift project of ``load_demo_consent`` (so that
    # they can vote in its open ballot); the same dwelling whether or not the story is loaded.
    from linli.demo.consult import resident_dwelling

    dwelling = (
        resident_dwelling(community)
        or m.Dwelling.objects.filter(building__community=community, households__owner_occupied=True)
        .order_by("building__path", "unit__number", "floor", "number")
        .first()
    )
    # Once the grid events are loaded (``load_demo_events``), demo-dept works 区城市管理局's queue and
    # demo-locality the street's locality office (属地); before that, demo-dept is held at the street.
    bureau = Department.objects.filter(code=f"{district.code}-CG").first()
    locality = Department.objects.filter(street=street).first()
    places: dict[str, tuple[Role, Model | None]] = {
        "demo-admin": (Role.DISTRICT_ADMIN, district),
        "demo-street": (Role.STREET_COMMAND, street),
        "demo-community": (Role.COMMUNITY_WORKER, community),
        "demo-grid": (Role.GRID_FULLTIME, grid),
        "demo-resident": (Role.RESIDENT, dwelling),  # and verified as its owner (_verify_demo_resident)
        "demo-operator": (Role.OPERATOR, compound),
        "demo-dept": (Role.DEPARTMENT_STAFF, bureau or street),
        "demo-locality": (Role.DEPARTMENT_STAFF, locality),
    }
    return {u: (r, p) for u, (r, p) in places.items() if p is not None}


@transaction.atomic
def ensure_demo_logins(password: str) -> list[tuple[str, str, str]]:
    """Create the demo users and grants; returns rows (username, role label, place label)."""
    places = logins_by_place()
    if places is None:
        raise CommandError(
            "还没有区数据:请先运行 `manage.py load_demo`。/ No district yet: run `manage.py load_demo` first."
        )
    root = ensure_user(ROOT_USER, password=password, display_name="演示超级管理员", superuser=True)
    rows = [(ROOT_USER, "超级管理员 / Superuser (/admin/)", "全部 / everything")]
    for i, (username, (role, place)) in enumerate(places.items(), start=1):
        spec = ROLES[role]
        # a made-up mobile number per login, so sign-in and password reset by SMS code can be tried
        # (the demo's console backend prints the code in the `make run` terminal; nothing is sent)
        phone = f"138000000{i:02d}"
        user = ensure_user(username, password=password, display_name=f"演示·{spec.zh}", phone=phone)
        grant_role(root, user, role.value, place)
        rows.append((username, f"{spec.zh} / {spec.en}", place_label(place)))
    _verify_demo_resident(places)
    return rows


def _verify_demo_resident(places: dict[str, tuple[Role, Model]]) -> None:
    """demo-resident votes online: demo-community verifies the account in person as the owner of its
    dwelling (a resident grant alone gives no vote, issue 8)."""
    from linli.demo.consult import verify_owner_in_person

    if "demo-resident" not in places or "demo-community" not in places:
        return
    dwelling = places["demo-resident"][1]
    if isinstance(dwelling, m.Dwelling):
        staff = User.objects.get(username="demo-community")
        verify_owner_in_person(staff, User.objects.get(username="demo-resident"), dwelling)


class Command(BaseCommand):
    help = "创建演示账号及其角色 / Create the demo logins and their roles (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=URL, help=f"显示的网址 / the address to show (default {URL})")

    def handle(self, *args: Any, **opts: Any) -> None:
        password = demo_password()
        rows = ensure_demo_logins(password)
        header = ("用户 user", "角色 role", "地点 place")
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(3)]
        self.stdout.write(self.style.SUCCESS("演示账号 / Demo logins"))
        self.stdout.write("  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip())
        self.stdout.write("  ".join("-" * w for w in widths))
        for row in rows:
            self.stdout.write("  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip())
        source = (
            "LINLI_DEMO_PASSWORD"
            if os.environ.get("LINLI_DEMO_PASSWORD", "").strip()
            else str(settings.VAR_DIR / "demo_password")
        )
        self.stdout.write(f"密码(所有账号)/ password (all users): {password}    ({source})")
        self.stdout.write(f"登录 / sign in: {opts['url']}")
