"""Employment targets (issue 14 §7): completion as the district reports it, actuals = placements +
entries (against a naive count), bad input refused with nothing changed, double submits, the
withdrawal rules, target history, the page and the .xlsx export showing the same figures."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from linli.accounts.roles import Role
from linli.accounts.services import grant_role
from linli.core import clock
from linli.core.errors import LinliError
from linli.jobs import permissions
from linli.jobs.models import EmploymentTarget, Metric, Placement, TargetEntry
from linli.jobs.queries import targets as q
from linli.jobs.services import targets as svc
from tests import exports as bg
from tests import factories as f

pytestmark = pytest.mark.dates

NEW, RE, HARD = Metric.NEW_JOBS.value, Metric.REEMPLOYED.value, Metric.HARD_PLACED.value


def place_placements(jobs: Any, rows: list[tuple[date, str, bool, bool]]) -> None:
    """Placements (started_on, path, registered unemployed, hard to employ) of the fixture's seeker."""
    Placement.objects.bulk_create(
        Placement(
            seeker=jobs.seeker,
            employer=jobs.employer,
            started_on=on,
            path=path,
            registered_unemployed=ru,
            hard_to_employ=hard,
            source=Placement.Source.PLATFORM,
            created_at=clock.now(),
        )
        for on, path, ru, hard in rows
    )


def by_metric(figures: list[q.Figure]) -> dict[str, q.Figure]:
    return {fig.metric: fig for fig in figures}


@pytest.fixture
def district_officer(world: Any) -> Any:
    user = f.UserFactory(username="district_officer")
    grant_role(world.admin, user, Role.EMPLOYMENT_OFFICER.value, world.district)
    return user


@pytest.fixture
def street2_officer(world: Any) -> Any:
    user = f.UserFactory(username="street2_officer")
    grant_role(world.admin, user, Role.EMPLOYMENT_OFFICER.value, world.street2)
    return user


# --- completion ----------------------------------------------------------------------------------


def test_completion_is_the_seeds_percentage() -> None:
    assert q.percent(31_300, 36_963) == Decimal("84.68")
    assert q.percent(4_508, 5_000) == Decimal("90.16")
    assert q.percent(1, 3) == Decimal("33.33")
    assert q.percent(2, 3) == Decimal("66.67")  # half up
    assert q.percent(1, 8) == Decimal("12.50")
    assert q.percent(5, 0) is None and q.percent(5, None) is None
    assert q.percent(40_000, 36_963) == Decimal("108.22")


def test_expected_share_and_the_straight_line() -> None:
    assert q.elapsed_share(2026, date(2026, 12, 31)) == Decimal("100.00")
    assert q.elapsed_share(2026, date(2026, 7, 1)) == Decimal("49.86")  # day 182 of 365
    assert q.elapsed_share(2028, date(2028, 12, 31)) == Decimal("100.00")  # leap year, day 366
    assert q.elapsed_share(2025, date(2026, 3, 1)) == Decimal("100.00")
    assert q.elapsed_share(2027, date(2026, 3, 1)) == Decimal("0.00")
    line = q.straight_line(36_500, 2026)
    assert line[0] == 3_100 and line[-1] == 36_500  # 31 days of 365
    assert line == sorted(line)
    assert q.straight_line(None, 2026) == [None] * 12


def test_the_district_figures_as_the_seed_reports_them(
    world: Any, jobs: Any, district_officer: Any, client_for: Any
) -> None:
    with clock.frozen("2026-11-05T10:00:00+08:00"):
        svc.set_target(district_officer, world.district, 2026, NEW, 36_963)
        svc.set_target(district_officer, world.district, 2026, RE, 5_000)
        svc.add_entry(district_officer, world.district, NEW, 31_000, date(2026, 10, 31), "区人社局10月月报")
        svc.add_entry(district_officer, world.street1, RE, 4_400, date(2026, 10, 31), "区人社局10月月报")
        svc.add_entry(district_officer, world.street2, HARD, 1_500, date(2026, 9, 30), "街道台账")
        # 300 placements on the platform this year: 108 of registered unemployed, 63 hard to employ
        rows = [
            (date(2026, 1 + i % 10, 1 + i % 27), world.comm_a.path if i % 2 else world.street2.path, i < 108, i >= 237)
            for i in range(300)
        ]
        place_placements(jobs, rows)
        figs = by_metric(q.figures(world.district, 2026))
        assert figs[NEW].actual == 31_300 and figs[NEW].completion == Decimal("84.68")
        assert figs[RE].actual == 4_508 and figs[RE].completion == Decimal("90.16")
        assert figs[HARD].actual == 1_563 and figs[HARD].target is None and figs[HARD].completion is None
        assert figs[NEW].placed == 300 and figs[NEW].entered == 31_000
        page = client_for(district_officer).get(
            reverse("jobs:targets"), {"place": f"district-{world.district.pk}", "year": 2026}
        )
        assert page.status_code == 200
        html = page.content.decode()
        assert "31,300" in html and "84.68%" in html and "4,508" in html and "1,563" in html
        assert 'data-testid="streets"' in html
        # ahead or behind the year's share: 5 Nov is day 309 of 365 → 84.66 %
        assert figs[NEW].expected == Decimal("84.66") and figs[NEW].ahead is True
        assert figs[RE].ahead is True


# --- actuals = placements + entries ---------------------------------------------------------------


def naive(
    placements: list[tuple[date, str, bool, bool]],
    entries: list[tuple[str, str, int, date, bool]],
    prefix: str,
    year: int,
) -> dict[str, list[int]]:
    out = {m: [0] * 12 for m in (NEW, RE, HARD)}
    for on, path, ru, hard in placements:
        if on.year == year and path.startswith(prefix):
            out[NEW][on.month - 1] += 1
            out[RE][on.month - 1] += ru
            out[HARD][on.month - 1] += hard
    for path, metric, count, on, withdrawn in entries:
        if on.year == year and path.startswith(prefix) and not withdrawn:
            out[metric][on.month - 1] += count
    return out


def test_actuals_equal_a_naive_count_over_a_random_set(world: Any, jobs: Any, district_officer: Any) -> None:
    rnd = random.Random(14)
    paths = [world.street1.path, world.comm_a.path, world.comm_b.path, world.street2.path, world.comm_c.path]
    placements = [
        (
            date(2026, 1, 1) + timedelta(days=rnd.randrange(-40, 400)),
            rnd.choice(paths),
            rnd.random() < 0.3,
            rnd.random() < 0.1,
        )
        for _ in range(600)
    ]
    place_placements(jobs, placements)
    entries = []
    with clock.frozen("2027-01-20T10:00:00+08:00"):
        for i in range(40):
            place = rnd.choice([world.district, world.street1, world.street2])
            metric = rnd.choice([NEW, RE, HARD])
            count = rnd.randint(1, 500)
            on = date(2026, 1, 1) + timedelta(days=rnd.randrange(-20, 385))
            entry = svc.add_entry(district_officer, place, metric, count, on, f"来源 {i}")
            withdrawn = rnd.random() < 0.2
            if withdrawn:
                svc.remove_entry(district_officer, entry, "录错了")
            entries.append((place.path, metric, count, on, withdrawn))
        for place in (world.district, world.street1, world.street2):
            for year in (2025, 2026, 2027):
                expected = naive(placements, entries, place.path, year)
                figs = by_metric(q.figures(place, year))
                for metric in (NEW, RE, HARD):
                    assert figs[metric].monthly == expected[metric], (place, year, metric)
                    assert figs[metric].actual == sum(expected[metric])
        rows = q.by_street(world.district, 2026)
        for row in rows:
            assert row.street is not None or any(fig.actual for fig in row.figures)
            prefix = row.street.path if row.street else None
            for fig in row.figures:
                if prefix is not None:
                    assert fig.monthly == naive(placements, entries, prefix, 2026)[fig.metric]
        district = by_metric(q.figures(world.district, 2026))
        for metric in (NEW, RE, HARD):  # the rows add up to the district
            assert sum(by_metric(r.figures)[metric].actual for r in rows) == district[metric].actual
        # the district-level entries are the row under no street
        district_only = [e for e in entries if e[0] == world.district.path and e[3].year == 2026 and not e[4]]
        if district_only:
            assert rows[-1].street is None
            assert sum(fig.actual for fig in rows[-1].figures) == sum(e[2] for e in district_only)


def test_the_figures_are_counted_in_sql_not_per_row(world: Any, jobs: Any, django_assert_max_num_queries: Any) -> None:
    place_placements(
        jobs, [(date(2026, 1 + i % 12, 1 + i % 28), world.comm_a.path, i % 3 == 0, i % 7 == 0) for i in range(3000)]
    )
    with django_assert_max_num_queries(3):
        figs = q.figures(world.district, 2026, date(2026, 12, 31))
    assert by_metric(figs)[NEW].actual == 3000
    assert by_metric(figs)[RE].actual == 1000
    with django_assert_max_num_queries(4):
        rows = q.by_street(world.district, 2026, date(2026, 12, 31))
    assert [r.street for r in rows] == [world.street1, world.street2]


# --- bad input ----------------------------------------------------------------------------------


def problems(exc: pytest.ExceptionInfo[LinliError]) -> list[str]:
    return [p.code for p in exc.value.problems]


def test_bad_input_is_refused_and_nothing_changes(world: Any, jobs: Any) -> None:
    officer = jobs.officer
    today = clock.today()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"count": 0}, "bad_count"),
        ({"count": -5}, "bad_count"),
        ({"count": None}, "bad_count"),
        ({"count": 2_000_000}, "bad_count"),
        ({"count": True}, "bad_count"),
        ({"on": today + timedelta(days=1)}, "future_date"),
        ({"on": None}, "bad_date"),
        ({"on": date(1999, 12, 31)}, "old_date"),
        ({"source": ""}, "no_source"),
        ({"source": "   "}, "no_source"),
        ({"source": "x" * 201}, "long_source"),
        ({"metric": "jobs"}, "bad_metric"),
        ({"place": world.comm_a}, "bad_place"),
    ]
    for change, code in cases:
        kw = {"place": world.street1, "metric": NEW, "count": 3, "on": today, "source": "社区台账", **change}
        with pytest.raises(LinliError) as exc:
            svc.add_entry(officer, kw.pop("place"), **kw)
        assert problems(exc) == [code], change
        assert exc.value.status == 400
    for change, code in [
        ({"target": 0}, "bad_target"),
        ({"target": -1}, "bad_target"),
        ({"target": None}, "bad_target"),
        ({"year": 1999}, "bad_year"),
        ({"year": today.year + 2}, "bad_year"),
        ({"metric": ""}, "bad_metric"),
    ]:
        kw = {"year": today.year, "metric": NEW, "target": 100, **change}
        with pytest.raises(LinliError) as exc:
            svc.set_target(officer, world.street1, **kw)
        assert problems(exc) == [code], change
    # another street, the district above one's street: outside the grant → 404
    for place in (world.street2, world.district):
        with pytest.raises(Http404):
            svc.add_entry(officer, place, NEW, 3, today, "社区台账")
        with pytest.raises(Http404):
            svc.set_target(officer, place, today.year, NEW, 100)
    # someone who sees the street but does not keep its figures → 403
    with pytest.raises(PermissionDenied):
        svc.add_entry(world.users["department_staff"], world.street1, NEW, 3, today, "社区台账")
    assert not TargetEntry.objects.exists() and not EmploymentTarget.objects.exists()


def test_bad_input_on_the_page_is_a_bilingual_400(world: Any, jobs: Any, client_for: Any) -> None:
    c = client_for(jobs.officer)
    key = f"street-{world.street1.pk}"
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    for data, words in [
        ({"count": "-3", "on": clock.today().isoformat(), "source": "台账"}, "人数应为"),
        ({"count": "0", "on": clock.today().isoformat(), "source": "台账"}, "人数应为"),
        ({"count": "abc", "on": clock.today().isoformat(), "source": "台账"}, "人数应为"),
        ({"count": "3", "on": tomorrow, "source": "台账"}, "日期不能晚于今天"),
        ({"count": "3", "on": "2026-02-30", "source": "台账"}, "请填写日期"),
        ({"count": "3", "on": clock.today().isoformat(), "source": ""}, "请注明数据来源"),
    ]:
        r = c.post(reverse("jobs:targets_entry_add"), {"place": key, "metric": NEW, **data})
        assert r.status_code == 400, data
        assert words in r.content.decode()
    r = c.post(reverse("jobs:targets_set"), {"place": key, "metric": NEW, "year": "20x6", "target": "5"})
    assert r.status_code == 400 and "年份应在" in r.content.decode()
    r = c.post(reverse("jobs:targets_set"), {"place": key, "metric": NEW, "year": clock.today().year, "target": "0"})
    assert r.status_code == 400 and "目标人数应为" in r.content.decode()
    assert c.get(reverse("jobs:targets"), {"place": key, "year": "1990"}).status_code == 400
    assert c.get(reverse("jobs:targets"), {"place": "street-x"}).status_code == 404
    assert c.get(reverse("jobs:targets"), {"place": f"street-{world.street2.pk}"}).status_code == 404
    assert (
        c.post(
            reverse("jobs:targets_entry_add"),
            {
                "place": f"street-{world.street2.pk}",
                "metric": NEW,
                "count": "3",
                "on": clock.today().isoformat(),
                "source": "x",
            },
        ).status_code
        == 404
    )
    en = client_for(jobs.officer)
    en.cookies["django_language"] = "en"
    r = en.post(
        reverse("jobs:targets_entry_add"), {"place": key, "metric": NEW, "count": "3", "on": tomorrow, "source": "x"}
    )
    assert r.status_code == 400 and "The date cannot be in the future." in r.content.decode()
    assert not TargetEntry.objects.exists() and not EmploymentTarget.objects.exists()


# --- double submits, targets' history, withdrawal ----------------------------------------------------


def test_a_double_submit_is_recorded_once(world: Any, jobs: Any, client_for: Any) -> None:
    c = client_for(jobs.officer)
    data = {
        "place": f"street-{world.street1.pk}",
        "metric": NEW,
        "count": "12",
        "on": clock.today().isoformat(),
        "source": "社区台账",
    }
    with clock.frozen(clock.now()):
        first = c.post(reverse("jobs:targets_entry_add"), data)
        second = c.post(reverse("jobs:targets_entry_add"), data)
    assert first.status_code == second.status_code == 303
    assert TargetEntry.objects.count() == 1
    later = clock.now() + timedelta(seconds=q.DOUBLE_SUBMIT_SECONDS + 1)
    with clock.frozen(later):  # the same figure again a while later is a second entry
        svc.add_entry(jobs.officer, world.street1, NEW, 12, clock.today(), "社区台账")
    assert TargetEntry.objects.count() == 2


def test_setting_a_target_again_keeps_who_when_and_the_earlier_value(
    world: Any, jobs: Any, district_officer: Any
) -> None:
    with clock.frozen("2026-01-05T09:00:00+08:00"):
        first = svc.set_target(jobs.officer, world.street1, 2026, NEW, 3_000)
    with clock.frozen("2026-03-05T09:00:00+08:00"):
        again = svc.set_target(district_officer, world.street1, 2026, NEW, 3_200)
        same = svc.set_target(district_officer, world.street1, 2026, NEW, 3_200)
    assert first.pk == again.pk == same.pk
    row = EmploymentTarget.objects.get()
    assert row.target == 3_200 and row.set_by == district_officer
    assert row.set_at.date() == date(2026, 3, 5) and row.place_kind == "street" and row.place_id == world.street1.pk
    assert row.history == [
        {
            "target": 3_000,
            "set_by": jobs.officer.pk,
            "set_by_name": str(jobs.officer),
            "set_at": first.set_at.isoformat(),
        }
    ]
    fig = by_metric(q.figures(world.street1, 2026, date(2026, 3, 5)))[NEW]
    assert [h["target"] for h in fig.earlier] == [3_000]


def test_withdrawal_by_the_author_or_the_district_within_the_month(
    world: Any, jobs: Any, district_officer: Any
) -> None:
    colleague = f.UserFactory(username="colleague")
    grant_role(world.admin, colleague, Role.EMPLOYMENT_OFFICER.value, world.street1)
    with clock.frozen("2026-05-10T10:00:00+08:00"):
        mine = svc.add_entry(jobs.officer, world.street1, NEW, 40, date(2026, 5, 9), "社区台账")
        other = svc.add_entry(jobs.officer, world.street1, NEW, 7, date(2026, 5, 9), "社区台账 2")
        with pytest.raises(LinliError) as exc:
            svc.remove_entry(jobs.officer, mine, "  ")
        assert problems(exc) == ["no_reason"]
        with pytest.raises(LinliError) as exc:  # a colleague of the same street is neither
            svc.remove_entry(colleague, mine, "重复录入")
        assert exc.value.status == 403 and problems(exc) == ["not_author"]
        assert permissions.may_withdraw(colleague, mine) is False
        assert permissions.may_withdraw(jobs.officer, mine) is True
        svc.remove_entry(jobs.officer, mine, "重复录入")
        with pytest.raises(LinliError) as exc:
            svc.remove_entry(jobs.officer, mine, "again")
        assert exc.value.status == 409 and problems(exc) == ["already_withdrawn"]
        assert permissions.may_withdraw(district_officer, other) is True
        fig = by_metric(q.figures(world.street1, 2026))[NEW]
        assert fig.entered == 47 - 40
    with clock.frozen("2026-06-01T09:00:00+08:00"):  # the month is closed: nobody withdraws
        for who in (jobs.officer, district_officer, world.admin):
            with pytest.raises(LinliError) as exc:
                svc.remove_entry(who, other, "录错了")
            assert exc.value.status == 409 and problems(exc) == ["month_closed"]
    with clock.frozen("2026-05-31T23:00:00+08:00"):
        with pytest.raises(Http404):  # another street's officer does not see it
            svc.remove_entry(f.UserFactory(username="nobody"), other, "x")
        svc.remove_entry(district_officer, other, "区级核对:重复")
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.withdrawn_by == jobs.officer and mine.withdrawn_reason == "重复录入"
    assert other.withdrawn_by == district_officer
    assert TargetEntry.objects.count() == 2  # nothing is deleted
    assert by_metric(q.figures(world.street1, 2026))[NEW].entered == 0


def test_the_withdraw_button_and_post(world: Any, jobs: Any, client_for: Any) -> None:
    entry = svc.add_entry(jobs.officer, world.street1, HARD, 5, clock.today(), "社区台账")
    c = client_for(jobs.officer)
    key = f"street-{world.street1.pk}"
    page = c.get(reverse("jobs:targets"), {"place": key}).content.decode()
    assert reverse("jobs:targets_entry_withdraw", args=[entry.pk]) in page
    r = c.post(reverse("jobs:targets_entry_withdraw", args=[entry.pk]), {"reason": "", "place": key})
    assert r.status_code == 400 and "请说明撤回的原因" in r.content.decode()
    r = c.post(
        reverse("jobs:targets_entry_withdraw", args=[entry.pk]),
        {"reason": "录错", "place": key, "year": clock.today().year},
    )
    assert r.status_code == 303 and r["Location"].endswith("#entries-h")
    page = c.get(r["Location"]).content.decode()
    assert "录错" in page and reverse("jobs:targets_entry_withdraw", args=[entry.pk]) not in page


# --- the export ------------------------------------------------------------------------------------


def test_the_export_opens_and_its_figures_equal_the_pages(
    world: Any, jobs: Any, district_officer: Any, client_for: Any
) -> None:
    with clock.frozen("2026-08-15T10:00:00+08:00"):
        svc.set_target(district_officer, world.district, 2026, NEW, 36_963)
        svc.set_target(district_officer, world.street1, 2026, NEW, 20_000)
        svc.set_target(district_officer, world.street2, 2026, HARD, 900)
        svc.add_entry(district_officer, world.street1, NEW, 18_000, date(2026, 7, 31), '=HYPERLINK("x")')
        svc.add_entry(district_officer, world.district, NEW, 13_000, date(2026, 6, 30), "区人社局月报")
        gone = svc.add_entry(district_officer, world.street2, HARD, 50, date(2026, 8, 1), "街道台账")
        svc.remove_entry(district_officer, gone, "重复")
        place_placements(
            jobs,
            [
                (date(2026, 1 + i % 8, 3), world.comm_a.path if i % 3 else world.comm_c.path, i % 2 == 0, i % 5 == 0)
                for i in range(300)
            ],
        )
        c = client_for(district_officer)
        url = reverse("jobs:targets_export") + f"?place=district-{world.district.pk}&year=2026"
        assert c.get(url).status_code == 200  # the start page
        run, response = bg.export_file(c, url)
        wb = bg.workbook(response)
        figs = by_metric(q.figures(world.district, 2026))
        summary = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
        assert summary[1][:5] == ("新增城镇就业", 36_963, 31_300, figs[NEW].placed, figs[NEW].entered)
        assert figs[NEW].actual == 31_300 and summary[1][5] == pytest.approx(84.68)
        assert summary[1][6] == pytest.approx(float(figs[NEW].expected))
        page = c.get(reverse("jobs:targets"), {"place": f"district-{world.district.pk}", "year": 2026}).content.decode()
        assert "31,300" in page and "84.68%" in page
        # a sheet per metric by month and street, adding up to the page's monthly figures
        sheet = list(wb[wb.sheetnames[1]].iter_rows(values_only=True))
        head = sheet[0]
        assert world.street1.name in head and world.street2.name in head
        months = sheet[1:13]
        assert [r[head.index("当月 in the month")] for r in months] == figs[NEW].monthly
        assert [r[head.index("累计 cumulative")] for r in months][:8] == figs[NEW].cumulative[:8]
        rows = q.by_street(world.district, 2026)
        s1 = next(r for r in rows if r.street == world.street1)
        assert [r[head.index(world.street1.name)] for r in months] == by_metric(s1.figures)[NEW].monthly
        assert {"街道 streets", "来源 sources"} <= set(wb.sheetnames)
        sources = list(wb["来源 sources"].iter_rows(values_only=True))
        assert len(sources) == 1 + 3
        texts = [r[4] for r in sources[1:]]
        assert '\'=HYPERLINK("x")' in texts  # a formula-like source stays text
        assert any(r[7] == "已撤回(不计)" and r[10] == "重复" for r in sources[1:])
        streets = list(wb["街道 streets"].iter_rows(values_only=True))
        street1 = next(r for r in streets if r[0] == world.street1.name)
        assert street1[1] == 20_000 and street1[2] == by_metric(s1.figures)[NEW].actual
        assert run.result["entries"] == 3


def test_a_street_export_and_its_refusals(world: Any, jobs: Any, street2_officer: Any, client_for: Any) -> None:
    svc.add_entry(jobs.officer, world.street1, NEW, 3, clock.today(), "社区台账")
    c = client_for(jobs.officer)
    run, response = bg.export_file(c, reverse("jobs:targets_export") + f"?place=street-{world.street1.pk}")
    wb = bg.workbook(response)
    assert "街道 streets" not in wb.sheetnames and len(wb.sheetnames) == 5
    assert run.filename.endswith(".xlsx") and world.street1.name in run.filename
    other = client_for(street2_officer)
    assert other.get(reverse("runs:file", args=[run.pk])).status_code == 404
    assert other.post(reverse("jobs:targets_export") + f"?place=street-{world.street1.pk}").status_code == 404
    assert c.post(reverse("jobs:targets_export") + f"?place=street-{world.street1.pk}&year=abc").status_code == 400


@pytest.mark.parametrize("english", [False, True], ids=["zh", "en"])
def test_the_page_speaks_one_language(
    world: Any, jobs: Any, district_officer: Any, client_for: Any, english: bool
) -> None:
    from tests.core.test_one_language import stored_texts, strays

    with clock.frozen("2026-11-05T10:00:00+08:00"):
        svc.set_target(district_officer, world.district, 2026, NEW, 36_963)
        svc.set_target(district_officer, world.district, 2026, NEW, 37_000)
        entry = svc.add_entry(district_officer, world.street1, RE, 40, date(2026, 11, 1), "区人社局月报")
        svc.add_entry(district_officer, world.district, HARD, 4, date(2026, 11, 2), "社区台账")
        svc.remove_entry(district_officer, entry, "录错")
        place_placements(jobs, [(date(2026, 3, 3), world.comm_a.path, True, True)])
        c = client_for(district_officer)
        if english:
            c.cookies["django_language"] = "en"
        data = stored_texts(english)
        cache: dict[str, bool] = {}
        for params in (
            {"place": f"district-{world.district.pk}"},
            {"place": f"street-{world.street1.pk}", "year": "2025"},
        ):
            page = c.get(reverse("jobs:targets"), params)
            assert page.status_code == 200
            assert strays(page.content.decode(), english, data, cache) == [], params
        bad = c.post(
            reverse("jobs:targets_entry_add"),
            {"place": f"street-{world.street1.pk}", "metric": NEW, "count": "0", "on": "2026-11-01", "source": "x"},
        )
        assert bad.status_code == 400 and strays(bad.content.decode(), english, data, cache) == []
        start = c.get(reverse("jobs:targets_export"), {"place": f"street-{world.street1.pk}"})
        assert strays(start.content.decode(), english, data, cache) == []
