"""What a workbench list is (pure Python, no Django): a short list of what waits for someone now.

Each list of the workbench (``queries/<role>.py``) returns one ``WorkList``: its full count, at
most ``SHOWN`` rows, and the link to the existing full page (a queue, a list) with the right filter.
A figure such as a ballot's turnout is a ``Figure`` ("7 / 14 户 (50%)" on the page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

#: Rows shown per list; the heading always carries the full count and the "all N" link.
SHOWN = 5


@dataclass(frozen=True)
class Figure:
    """``done`` of ``total`` (households, owners, cases …); ``unit`` is the key of the unit's name."""

    done: int
    total: int
    unit: str = ""


@dataclass
class Item:
    """One row: what it is, where to act on it, and a short state ("处理反馈", "超时")."""

    title: str
    url: str | None = None
    note: str = ""
    late: bool = False  # overdue: shown with a word, not only a colour
    urgent: bool = False
    figure: Figure | None = None
    amount: int | None = None  # a plain count of ``unit`` ("3 objections open")
    unit: str = ""
    when: dt.date | None = None  # the day that matters: a ballot closes, a notice ends, a visit is due
    state: str = ""  # a key the page words ("vote": waiting for my vote, "verify": verify first)


@dataclass
class WorkList:
    key: str
    count: int
    items: list[Item] = field(default_factory=list)
    all_url: str | None = None
    figure: Figure | None = None  # a figure for the whole list (e.g. turnout over every open ballot)
    group: str = ""  # lists of one role held several times (a department's name)
    group_url: str | None = None  # the group's own page (the department's queue)
    # what ``count`` counts when it is not the rows themselves ("households": rows are buildings)
    count_unit: str = ""

    @property
    def more(self) -> int:
        """Rows not shown (0 when ``count`` counts something other than the rows)."""
        return 0 if self.count_unit else max(0, self.count - len(self.items))


def turnout(voted: int, roll: int) -> Figure:
    """Owners who voted of those on the roll (a figure, whatever the ballot's counting rules)."""
    return Figure(min(voted, roll), roll, "owners")
