"""The main menu offers the grid-event pages by role (linli/accounts/context.py)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.accounts.services import grant_role
from linli.governance.services.events import ensure_catalogue, locality_for
from tests import factories as f

pytestmark = pytest.mark.django_db


def _menu(client: Any) -> str:
    html = client.get("/").content.decode()
    return html.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]


def test_menu_by_role(world: Any, client_for: Any) -> None:
    ensure_catalogue(world.district)
    staff = f.UserFactory(username="locality_staff")
    grant_role(world.admin, staff, "department_staff", locality_for(world.street1)[0])

    resident = _menu(client_for(world.users["resident"]))
    assert "我的上报" in resident and "nav-report" in resident
    for hidden in ("nav-dashboard", "nav-command", "nav-department"):
        assert hidden not in resident

    command = _menu(client_for(world.users["street_command"]))
    assert "nav-dashboard" in command and "nav-command" in command and "nav-department" not in command

    worker = _menu(client_for(world.users["grid_fulltime"]))
    assert "nav-dashboard" in worker and "nav-command" not in worker

    dept = _menu(client_for(staff))
    assert "nav-department" in dept and "nav-dashboard" in dept and "nav-command" not in dept

    # department staff held at a street only look at places: no event pages offered beyond reporting
    street_staff = _menu(client_for(world.users["department_staff"]))
    assert "nav-department" not in street_staff and "nav-dashboard" not in street_staff


def test_home_and_me_pages_of_department_staff(world: Any, client_for: Any) -> None:
    """A grant held at a department links to that department's queue (it has no place page)."""
    ensure_catalogue(world.district)
    staff = f.UserFactory(username="locality_staff")
    dept = locality_for(world.street1)[0]
    grant_role(world.admin, staff, "department_staff", dept)
    c = client_for(staff)
    for url in ("/", "/places/mine/", "/accounts/me/"):  # the workbench, 我的地点, my roles
        r = c.get(url)
        assert r.status_code == 200
        assert f"/governance/queue/department/{dept.pk}/" in r.content.decode(), url
