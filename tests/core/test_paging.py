"""The shared paging (``linli.core.paging`` + ``core/_pager.html``) and the lists that use it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from linli.core.paging import page_at, paginate, window


def test_window_links_the_ends_and_the_neighbours_with_gaps_between() -> None:
    assert window(1, 1) == [1]
    assert window(1, 3) == [1, 2, 3]
    assert window(5, 9) == [1, None, 3, 4, 5, 6, 7, None, 9]
    assert window(1, 9) == [1, 2, 3, None, 9]
    assert window(9, 9) == [1, None, 7, 8, 9]
    assert window(4, 9) == [1, 2, 3, 4, 5, 6, None, 9]  # no gap of a single page: 2 is shown


def test_a_page_of_a_list_keeps_the_other_parameters_in_its_links() -> None:
    params = QueryDict("step=handling&page=2&grid=7")
    page = paginate(params, list(range(45)), 20, label="案件")
    assert page.rows == list(range(20, 40)) and len(page) == 20
    assert (page.number, page.pages, page.count, page.first, page.last) == (2, 3, 45, 21, 40)
    assert page.has_previous and page.has_next and page.has_other_pages
    assert page.previous_url == "?step=handling&grid=7&page=1"
    assert page.next_url == "?step=handling&grid=7&page=3"
    last = paginate(QueryDict("page=3"), list(range(45)), 20)
    assert last.rows == list(range(40, 45)) and (last.first, last.last) == (41, 45) and not last.has_next


@pytest.mark.parametrize("asked", ["", "0", "-1", "abc", "1.5", "２", "9" * 30, "1e3"])
def test_a_malformed_page_number_is_the_first_page(asked: str) -> None:
    page = paginate({"page": asked}, list(range(30)), 10)
    assert page.number == 1 and page.rows == list(range(10))


def test_past_the_end_is_the_last_page_and_nothing_is_one_empty_page() -> None:
    page = paginate({"page": "99"}, list(range(30)), 10)
    assert page.number == 3 and page.rows == list(range(20, 30))
    empty = paginate({}, [], 10)
    assert (empty.number, empty.pages, empty.count, empty.first, empty.last) == (1, 1, 0, 0, 0)
    assert not empty and not empty.has_other_pages


def test_sections_page_on_their_own_parameter_and_land_on_their_heading() -> None:
    page = page_at(QueryDict("p-accept=2&p-handling=3"), 25, 10, param="p-handling", anchor="#q-handling")
    assert (page.number, page.start, page.stop) == (3, 20, 30)
    assert page.url(1) == "?p-accept=2&p-handling=1#q-handling"


@pytest.mark.django_db
def test_a_queryset_is_counted_once_and_one_slice_loaded(world: Any) -> None:
    from django.db import connection

    from linli.places.models import Building

    buildings = Building.objects.order_by("pk")
    total = buildings.count()
    assert total >= 3
    with CaptureQueriesContext(connection) as queries:
        page = paginate({"page": "2"}, buildings, 2)
    assert len(queries) == 2  # COUNT, then one LIMIT/OFFSET
    assert "LIMIT" in queries[1]["sql"].upper()
    assert [b.pk for b in page.rows] == list(buildings.values_list("pk", flat=True)[2:4])
    with CaptureQueriesContext(connection) as queries:
        paginate({"page": "1"}, buildings, 2, count=total)
    assert len(queries) == 1  # the caller's count is trusted


def _pager(page: Any, lang: str) -> str:
    with translation.override(lang):
        return render_to_string("core/_pager.html", {"pg": page})


def test_the_page_links_say_where_the_reader_is_and_mark_the_current_page() -> None:
    page = paginate({"page": "2", "step": "x"}, list(range(90)), 10, label="案件")
    html = _pager(page, "zh-hans")
    assert "第 2 / 9 页" in html
    assert re.search(r'<a href="\?step=x&amp;page=2" aria-current="page"', html)
    assert html.count('aria-current="page"') == 1
    assert 'rel="prev"' in html and 'rel="next"' in html and "上一页" in html and "下一页" in html
    assert re.search(r'<nav class="pager" aria-label="[^"]*案件', html)  # named after its list
    assert not re.search(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>", "", html)), "English on a Chinese page"
    english = _pager(page, "en")
    assert "Page 2 of 9" in english and "Previous" in english
    first = _pager(paginate({}, list(range(90)), 10), "zh-hans")
    assert 'aria-disabled="true"' in first and 'rel="prev"' not in first  # nothing before page 1


def test_one_page_draws_no_page_links() -> None:
    assert _pager(paginate({}, list(range(5)), 10), "zh-hans").strip() == ""


# --- the lists that page --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_department_queue_pages_each_section_on_its_own(world: Any, client_for: Any, monkeypatch: Any) -> None:
    from linli.governance.queries import queues
    from tests.governance.conftest import make_gov
    from tests.governance.test_queues_pages import count, dispatched

    gov = make_gov(world)
    monkeypatch.setattr(queues, "PER_PAGE", 2)
    cases = [dispatched(world, "C0102") for _ in range(5)]
    assert {c.department_id for c in cases} == {gov.cg.pk}
    ids = [c.pk for c in sorted(cases, key=lambda c: (c.step_due_at, c.pk))]
    shown = lambda html: [int(x) for x in re.findall(rb'data-event="(\d+)"', html)]  # noqa: E731
    client = client_for(gov.cg_staff)

    first = client.get("/governance/queue/department/").content
    assert count(first, "accept") == 5 and shown(first) == ids[:2]
    assert "第 1 / 3 页".encode() in first and b'href="?p-accept=2#q-accept"' in first
    third = client.get("/governance/queue/department/?p-accept=3&p-handling=2").content
    assert shown(third) == ids[4:] and "第 3 / 3 页".encode() in third
    assert b'href="?p-handling=2&amp;p-accept=2#q-accept"' in third  # the other section keeps its page
    # a card's form brings the person back to the pages they were on
    assert b'name="next" value="/governance/queue/department/' in third and b"p-accept=3" in third
    assert shown(client.get("/governance/queue/department/?p-accept=x").content) == ids[:2]


@pytest.mark.django_db
def test_background_work_and_a_runs_problems_page(world: Any, client_for: Any) -> None:
    from django.contrib.contenttypes.models import ContentType

    from linli.runs.models import Run
    from linli.runs.queries import ERRORS_PER_PAGE

    user = world.users["community_worker"]  # may edit community A: still allowed the runs it started
    at = {"target_type": ContentType.objects.get_for_model(world.comm_a), "target_id": world.comm_a.pk}
    Run.objects.bulk_create(
        Run(kind="tests.count", title_zh=f"第{i}次", title_en=f"Run {i}", user=user, action="edit", **at)
        for i in range(25)
    )
    client = client_for(user)
    first = client.get("/runs/").content.decode()
    second = client.get("/runs/?page=2").content.decode()
    assert first.count('data-label="开始') == 20 and second.count('data-label="开始') == 5  # cards' labels
    assert "第 1 / 2 页" in first and "第 2 / 2 页" in second and 'rel="next"' in first
    errors = [
        {"row": n, "column": "A", "zh": f"第{n}行错误", "en": f"row {n}"} for n in range(1, ERRORS_PER_PAGE * 2 + 8)
    ]
    run = Run.objects.create(
        kind="tests.count",
        title_zh="导入",
        title_en="Import",
        user=user,
        action="edit",
        status="failed",
        errors=errors,
        **at,
    )
    last = client.get(f"/runs/{run.pk}/?page=3").content.decode()
    assert "第 3 / 3 页" in last and "第208行错误" not in last and f"第{ERRORS_PER_PAGE * 2 + 7}行错误" in last
    assert f"第{ERRORS_PER_PAGE}行错误" not in last
