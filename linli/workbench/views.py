"""The workbench (工作台): the home page of a signed-in person — for each kind of work they hold
(``permissions.sections_of``), the short lists of what waits for them now, each with its count and
a link to the full page. Read-only: every list is a function of ``queries``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext
from django.views.decorators.http import require_GET

from linli.consult.queries import visits as consult_visits
from linli.core import clock
from linli.core.templatetags.figures import number, part_of
from linli.core.types import User
from linli.workbench import permissions
from linli.workbench.lists import Figure, Item, WorkList
from linli.workbench.queries import command, community, department, district, grid, resident

SECTION_TITLES: dict[str, Any] = {
    "command": _("Command centre"),
    "department": _("My department"),
    "grid": _("My grid"),
    "community": _("My community"),
    "resident": _("My home"),
    "district": _("The district's portfolio"),
}
LIST_TITLES: dict[str, Any] = {
    "register": _("Reports to register"),
    "dispatch": _("Cases to dispatch"),
    "approve": _("Requests to approve"),
    "late": _("Overdue cases"),
    "urgent": _("Urgent cases"),
    "alarms": _("Sensor alarms not yet acknowledged"),
    "accept": _("Cases to accept"),
    "handle": _("Cases being handled"),
    "due_soon": _("Due within a day"),
    "verify": _("Cases to verify on site"),
    "returned": _("My reports sent back"),
    "not_visited": _("Households not visited for %(days)d days"),
    "mine": _("My open reports"),
    "ballots": _("Open ballots"),
    "visits_due": _("Visits due"),
    "objections": _("Notices with open objections"),
    "ballots_to_vote": _("Ballots waiting for my vote"),
    "my_reports": _("My reports"),
    "notices": _("Notices for my building"),
    "portfolio": _("Projects by phase"),
    "cases": _("Open cases"),
    "turnout": _("Turnout of open ballots"),
}


#: The unit of a figure or an amount ("7 / 14 户 (50%)", "3 件").
UNITS: dict[str, Callable[[int], str]] = {
    "households": lambda n: npgettext("workbench unit", "household", "households", n),
    "owners": lambda n: npgettext("workbench unit", "owner", "owners", n),
    "cases": lambda n: npgettext("workbench unit", "case", "cases", n),
    "objections": lambda n: npgettext("workbench unit", "open objection", "open objections", n),
    "projects": lambda n: npgettext("workbench unit", "project", "projects", n),
    "open_cases": lambda n: npgettext("workbench unit", "open case", "open cases", n),
    "overdue_cases": lambda n: npgettext("workbench unit", "overdue case", "overdue cases", n),
}


def unit_text(unit: str, n: int) -> str:
    """The unit's name for ``n`` of them ("1 household", "14 households"; Chinese has one form)."""
    word = UNITS.get(unit)
    return word(n) if word else ""


#: What the day of a row means, per list.
WHEN: dict[str, Any] = {
    "ballots": _("closes %(day)s"),
    "turnout": _("closes %(day)s"),
    "ballots_to_vote": _("closes %(day)s"),
    "visits_due": _("due %(day)s"),
    "notices": _("posted until %(day)s"),
}
STATES: dict[str, Any] = {
    "vote": _("Waiting for your vote"),
    "verify": _("Verify that you are the owner to vote"),
}


def figure_text(fig: Figure | None) -> str:
    """ "7 / 14 户 (50%)": done of total with its unit (core's ``part_of``, as on every page)."""
    if fig is None:
        return ""
    return part_of(fig.done, fig.total, unit_text(fig.unit, fig.total))


def amount_text(n: int | None, unit: str) -> str:
    return "" if n is None else f"{number(n)} {unit_text(unit, n)}".strip()


@dataclass
class Row:
    item: Item
    text: str  # the title, or the amount when the row is one
    figure: str
    when: str
    state: str


def rows_of(wl: WorkList) -> list[Row]:
    out = []
    for it in wl.items:
        when = str(WHEN[wl.key] % {"day": it.when.isoformat()}) if it.when and wl.key in WHEN else ""
        amount = amount_text(it.amount, it.unit)
        text = it.title or amount
        out.append(
            Row(it, text, figure_text(it.figure) or (amount if it.title else ""), when, str(STATES.get(it.state, "")))
        )
    return out


@dataclass
class Section:
    key: str
    title: str
    lists: list[WorkList] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return sum(wl.count for wl in self.lists)


def sections(user: User) -> list[Section]:
    """Every section the user sees with its lists (the order of ``permissions.SECTIONS``)."""
    now = clock.now()
    out = []
    for key in permissions.sections_of(user):
        lists: list[WorkList] = []
        if key == "command":
            lists = [command.urgent(user, now), command.to_register(user, now), command.to_dispatch(user, now)]
            lists += [command.to_approve(user, now), command.late(user, now), command.alarms(user, now)]
        elif key == "department":
            for dept in department.departments(user):
                lists += [
                    department.to_accept(user, dept, now),
                    department.to_handle(user, dept, now),
                    department.due_soon(user, dept, now),
                    department.late(user, dept, now),
                ]
        elif key == "grid":
            lists = [grid.to_verify(user, now), grid.returned(user, now), grid.not_visited(user, now)]
            lists += [grid.my_open_reports(user, now)]
        elif key == "community":
            lists = [community.open_ballots(user, now), community.visits_due(user, now)]
            lists += [community.notices_with_objections(user, now)]
        elif key == "resident":
            lists = [resident.ballots_to_vote(user, now), resident.my_reports(user, now)]
            lists += [resident.notices_for_me(user, now)]
        elif key == "district":
            lists = [district.projects_by_phase(user, now), district.open_cases(user, now), district.turnout(user, now)]
        out.append(Section(key, str(SECTION_TITLES[key]), lists))
    return out


@dataclass
class Shown:
    wl: WorkList
    title: str
    rows: list[Row]
    figure: str
    count: str  # "12" or "1,204 户"


def shown(section: Section) -> list[Shown]:
    days = {"days": consult_visits.DEFAULT_STALE_DAYS}
    out = []
    for wl in section.lists:
        title = str(LIST_TITLES[wl.key]) % days if wl.key == "not_visited" else str(LIST_TITLES[wl.key])
        count = amount_text(wl.count, wl.count_unit) if wl.count_unit else str(number(wl.count))
        out.append(Shown(wl, title, rows_of(wl), figure_text(wl.figure), count))
    return out


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    found = [(section, shown(section)) for section in sections(request.user)]
    return render(request, "workbench/home.html", {"sections": found})
