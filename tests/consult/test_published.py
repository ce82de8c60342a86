"""What was published stays published (issue 8, point 4): a notice, a counted ballot's result and
the notice's PDF are snapshots taken at publication. Renaming the compound (through the roster
import, as in the issue) afterwards changes nothing that was published; a correction is a dated
correction, appended; nothing changes a published notice."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.consult import snapshots
from linli.consult.models import Ballot, Notice, NoticeCorrection
from linli.consult.panels.ballots import panel as ballots_panel
from linli.consult.panels.notices import panel as notices_panel
from linli.consult.services import ballots as consult_ballots
from linli.consult.services import notices as consult_notices
from linli.core import clock
from linli.core.errors import LinliError
from linli.places.services import import_roster
from tests.consult.test_ballots_helpers import make_ballot, own_building, past_closing
from tests.places.test_import_service import building, make_xlsx

pytestmark = pytest.mark.django_db

OLD, NEW = "劳动三村小区", "幸福新村"


def cw(world: Any) -> Any:
    return world.users["community_worker"]


def rename_compound(world: Any, name: str) -> None:
    """The issue's path: a roster import carrying compound A's code with another name."""
    b = world.building_a
    row = building(
        compound=world.compound_a.code,
        code=b.code,
        compound_name=name,
        compound_build_year=world.compound_a.build_year,
        building_name=b.name,
        storeys=b.storeys,
        lat=b.lat,
        lon=b.lon,
    )
    import_roster(cw(world), make_xlsx([row]), "rename.xlsx")
    world.compound_a.refresh_from_db()
    assert world.compound_a.name == name  # the import did rename it


def pdf_text(response: Any, tmp_path: Any) -> str:
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed: text extraction not checked")
    path = tmp_path / "n.pdf"
    path.write_bytes(response.content)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return "".join(out.stdout.decode().split())


@pytest.fixture
def notice(world: Any, project: Any) -> Notice:
    project.is_public = True
    project.save(update_fields=["is_public"])
    return consult_notices.publish_notice(
        cw(world), project, kind="plan", title="改造方案公示", body="一、外墙整治。\n二、加装电梯。"
    )


# --- the bug, reproduced ------------------------------------------------------------------


def test_a_renamed_compound_does_not_change_a_published_notice(world, notice, client_for, tmp_path):
    staff = client_for(cw(world))
    page = staff.get(reverse("consult:notice_detail", args=[notice.pk])).content.decode()
    assert OLD in page and "谢家湾街道 劳动三村社区 劳动三村小区" in page

    rename_compound(world, NEW)

    for html in (
        staff.get(reverse("consult:notice_detail", args=[notice.pk])).content.decode(),
        Client().get(reverse("consult:notice_public", args=[notice.pk])).content.decode(),
    ):
        assert OLD in html and NEW not in html
    public = Client().get(reverse("consult:notice_public", args=[notice.pk])).content.decode()
    assert str(cw(world)) not in public  # the public page names the residents' committee, not staff
    text = pdf_text(Client().get(reverse("consult:notice_pdf", args=[notice.pk])), tmp_path)
    assert OLD in text and NEW not in text
    assert "谢家湾街道劳动三村社区劳动三村小区" in text and notice.snapshot_sha256 in text
    p = notices_panel(notice.project, None)
    assert p is not None
    html = render_to_string(p.template, {**p.context, "project": notice.project})
    assert "改造方案公示" in html


def test_the_snapshot_holds_everything_shown_and_no_personal_data(world, notice):
    s = notice.snapshot
    assert s["title"] == "改造方案公示" and s["body"].startswith("一、外墙整治")
    assert s["compound"]["name"] == OLD and s["community"]["name"] == "劳动三村社区"
    assert s["street"]["name"] == "谢家湾街道" and s["project"]["name"] == "劳动三村小区综合改造"
    assert s["issuer"] == "劳动三村社区居民委员会" and s["scope_label"].startswith(OLD)
    assert s["published_by"] == {"id": cw(world).pk, "name": str(cw(world))}
    assert s["starts_on"] == clock.today().isoformat() and s["days"] == 15
    assert s["ends_on"] == (clock.today() + timedelta(days=14)).isoformat()
    assert s["reconstructed"] is False and s["ballot"] is None
    assert notice.snapshot_sha256 == snapshots.digest(s) and len(notice.snapshot_sha256) == 64
    text = str(s)
    for secret in ("110101199003070011", "13800138000", "13900139000"):
        assert secret not in text


# --- nothing changes a published notice -----------------------------------------------------------


def _stored(notice: Notice) -> dict[str, Any]:
    return Notice.objects.filter(pk=notice.pk).values().get()


@pytest.mark.parametrize(
    "change",
    [
        {"snapshot": {"title": "改过的"}},
        {"title": "改过的标题"},
        {"body": "改过的正文"},
        {"days": 30},
        {"snapshot_sha256": "0" * 64},
    ],
)
def test_editing_a_published_notice_is_refused(world, notice, change):
    before = _stored(notice)
    fresh = Notice.objects.get(pk=notice.pk)
    for field, value in change.items():
        setattr(fresh, field, value)
    with pytest.raises(LinliError) as exc:  # through save(), as any service would
        fresh.save()
    problem = exc.value.problems[0]
    assert exc.value.status == 409 and problem.code == "published_immutable"
    assert "已发布的内容不能修改" in problem.zh and "cannot be changed" in problem.en
    with pytest.raises(LinliError):  # through a queryset update()
        Notice.objects.filter(pk=notice.pk).update(**change)
    assert _stored(notice) == before


def test_the_api_and_the_admin_cannot_change_a_notice(world, notice, client_for):
    before = _stored(notice)
    c = client_for(cw(world))
    url = f"/api/v1/notices/{notice.pk}/"
    for method in (c.put, c.patch):
        assert method(url, {"title": "改"}, content_type="application/json").status_code == 405
    assert c.delete(url).status_code == 405
    admin = client_for(world.admin)
    change = reverse("admin:consult_notice_change", args=[notice.pk])
    page = admin.get(change)
    assert page.status_code == 200 and notice.snapshot_sha256 in page.content.decode()
    assert 'name="title"' not in page.content.decode()  # read-only
    admin.post(change, {"title": "改", "body": "改"})
    assert admin.get(reverse("admin:consult_notice_add")).status_code == 403
    assert _stored(notice) == before


# --- corrections: dated, appended, shown -----------------------------------------------------------


def test_a_correction_is_appended_dated_and_shown_everywhere(world, notice, client_for, tmp_path):
    first = consult_notices.correct_notice(
        cw(world), notice, text="第二条应为“加装电梯(1、2单元)”。", reason="漏写单元号"
    )
    clock.travel(clock.now() + timedelta(days=2))
    second = consult_notices.correct_notice(
        cw(world), notice, text="公示期内每周二下午现场答疑。", reason="补充答疑安排"
    )
    assert [c.pk for c in notice.corrections.all()] == [first.pk, second.pk]
    assert first.by_name == str(cw(world)) and second.at > first.at
    stored = _stored(notice)
    assert stored["body"] == "一、外墙整治。\n二、加装电梯。"  # the notice itself is untouched
    day1, day2 = timezone.localdate(first.at), timezone.localdate(second.at)
    staff = client_for(world.users["community_worker"])  # signed in after the clock moved
    for html in (
        staff.get(reverse("consult:notice_detail", args=[notice.pk])).content.decode(),
        Client().get(reverse("consult:notice_public", args=[notice.pk])).content.decode(),
    ):
        assert html.count("<strong>更正 (") == 2 and "Correction" not in html  # the page's language only
        assert f"更正 ({day1:%Y-%m-%d})" in html and f"更正 ({day2:%Y-%m-%d})" in html
        assert "加装电梯(1、2单元)" in html and "每周二下午现场答疑" in html
    english = Client()
    english.cookies["django_language"] = "en"
    html = english.get(reverse("consult:notice_public", args=[notice.pk])).content.decode()
    assert html.count("<strong>Correction (") == 2 and "更正 (" not in html
    assert "Residents&#x27; Committee" in html and "居民委员会" not in html  # the issuer: the body's title is a label
    text = pdf_text(Client().get(reverse("consult:notice_pdf", args=[notice.pk])), tmp_path)
    assert text.count("更正/Correction") == 2 and "加装电梯(1、2单元)" in text
    assert f"更正/Correction({day2.year}年{day2.month}月{day2.day}日)" in text
    api = staff.get(f"/api/v1/notices/{notice.pk}/").json()
    assert [c["reason"] for c in api["corrections"]] == ["漏写单元号", "补充答疑安排"]
    # a correction is never edited either
    first.text = "改"
    with pytest.raises(LinliError):
        first.save()
    with pytest.raises(LinliError):
        NoticeCorrection.objects.filter(pk=first.pk).update(text="改")
    assert NoticeCorrection.objects.get(pk=first.pk).text == "第二条应为“加装电梯(1、2单元)”。"


def test_correction_refusals_write_nothing(world, notice, client_for):
    with pytest.raises(LinliError) as exc:
        consult_notices.correct_notice(cw(world), notice, text="更正内容", reason="")
    assert exc.value.problems[0].code == "reason_required" and "更正理由" in exc.value.problems[0].zh
    assert "why it is corrected" in exc.value.problems[0].en
    with pytest.raises(LinliError) as exc:
        consult_notices.correct_notice(cw(world), notice, text=" ", reason="足够长的理由")
    assert exc.value.problems[0].code == "bad_correction"
    with pytest.raises(PermissionDenied):
        consult_notices.correct_notice(world.users["grid_leader"], notice, text="更正", reason="足够长的理由")
    c = client_for(cw(world))
    url = reverse("consult:notice_correct", args=[notice.pk])
    r = c.post(url, {"text": "更正内容", "reason": "短"})
    assert r.status_code == 400 and "更正理由" in r.content.decode()
    r = c.post(
        f"/api/v1/notices/{notice.pk}/correct/", {"text": "更正内容", "reason": ""}, content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "reason_required"
    assert client_for(world.users["grid_leader"]).post(url, {"text": "x", "reason": "足够长的理由"}).status_code == 403
    assert not NoticeCorrection.objects.exists()


def test_correcting_on_the_page_asks_first(world, notice, client_for):
    c = client_for(cw(world))
    url = reverse("consult:notice_correct", args=[notice.pk])
    data = {"text": "第二条应为加装电梯(1、2单元)。", "reason": "漏写单元号"}
    r = c.post(url, data)  # no confirm=1: the confirmation page, nothing written
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html and 'name="confirm" value="1"' in html
    assert "漏写单元号" in html and not NoticeCorrection.objects.exists()
    r = c.post(url, {**data, "confirm": "1"})
    assert r.status_code == 302 and NoticeCorrection.objects.get().reason == "漏写单元号"


def test_publishing_on_the_page_asks_first(world, project, client_for):
    c = client_for(cw(world))
    url = reverse("consult:notice_new", args=[project.pk])
    data = {"kind": "plan", "title": "改造方案公示", "body": "外墙、助餐。", "days": "15"}
    r = c.post(url, data)
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="confirm-page"' in html
    assert "更正" in html and "外墙、助餐。" in html  # says it cannot be changed, only corrected
    assert not Notice.objects.exists()
    bad = c.post(url, {**data, "title": ""})  # a bad notice is refused before anything is asked
    assert bad.status_code == 400 and 'data-testid="confirm-page"' not in bad.content.decode()
    assert c.post(url, {**data, "kind": "withdrawal", "confirm": "1"}).status_code == 400
    assert not Notice.objects.exists()
    r = c.post(url, {**data, "confirm": "1"})
    assert r.status_code == 302 and Notice.objects.get().snapshot["title"] == "改造方案公示"


# --- a counted ballot keeps its snapshot -----------------------------------------------------------


def _counted_ballot(world: Any, project: Any) -> Ballot:
    own_building(world)
    b = make_ballot(world, project=project, title="1栋外墙改造")
    b = consult_ballots.open_ballot(cw(world), b)
    keys = sorted(set(b.roll.values_list("owner_key", flat=True)))
    for k in keys[:18]:
        consult_ballots.cast_vote(cw(world), b, choice="yes", owner_key=k, channel="paper")
    past_closing(b)
    return consult_ballots.close_ballot(cw(world), b)


def test_a_counted_ballot_and_its_result_notice_keep_the_names_and_figures(world, project, client_for, tmp_path):
    project.is_public = True
    project.save(update_fields=["is_public"])
    b = _counted_ballot(world, project)
    snap = b.result["snapshot"]
    assert snap["scope_label"] == f"{OLD} 1栋" and snap["compound"]["name"] == OLD
    assert snap["project"] == {"id": project.pk, "name": project.name}
    assert snap["roll"] == {"dwellings": 24, "owners": 21, "digest": b.roll_digest}
    assert snap["ended_by"]["name"] == str(cw(world)) and snap["outcome"] == "counted"
    assert b.result["closed_by"] == cw(world).pk and b.result["decided"] is True
    assert b.result["closed_early_all_voted"] is False
    notice = consult_notices.publish_notice(
        cw(world), project, kind="result", title="表决结果公示", body="表决通过。", ballot=b
    )
    figures = notice.snapshot["ballot"]
    assert figures["counts"]["voted"] == 18 and figures["approved"] == b.result["approved"]
    assert figures["scope_label"] == f"{OLD} 1栋"

    rename_compound(world, NEW)
    project.name = "改名后的项目"
    project.save(update_fields=["name"])

    staff = client_for(cw(world))
    page = staff.get(reverse("consult:ballot_detail", args=[b.pk])).content.decode()
    main = page[page.index("<main") : page.index("</main>")]  # (the breadcrumb links the compound as it is now)
    assert f"{OLD} 1栋" in main and NEW not in main and "劳动三村小区综合改造" in main
    api = staff.get(f"/api/v1/ballots/{b.pk}/").json()
    assert api["published"]["scope_label"] == f"{OLD} 1栋"
    p = ballots_panel(project, None)
    assert p is not None and p.context["ballots"][0]["scope"] == f"{OLD} 1栋"
    html = Client().get(reverse("consult:notice_public", args=[notice.pk])).content.decode()
    assert OLD in html and NEW not in html and "18 / 21" in html
    text = pdf_text(Client().get(reverse("consult:notice_pdf", args=[notice.pk])), tmp_path)
    assert OLD in text and NEW not in text and "18/21位业主" in text and "劳动三村小区综合改造" in text
    # the stored result is never rewritten
    fresh = Ballot.objects.get(pk=b.pk)
    fresh.result = {**fresh.result, "approved": not fresh.result["approved"]}
    with pytest.raises(LinliError) as exc:
        fresh.save()
    assert exc.value.problems[0].code == "published_immutable"
    assert Ballot.objects.get(pk=b.pk).result == b.result


def test_a_result_notice_needs_a_counted_ballot(world, project):
    own_building(world)
    b = consult_ballots.open_ballot(cw(world), make_ballot(world, project=project))
    with pytest.raises(LinliError) as exc:
        consult_notices.publish_notice(cw(world), project, kind="result", title="结果", body="b", ballot=b)
    assert exc.value.problems[0].code == "ballot_not_counted" and "撤回" in exc.value.problems[0].zh
    with pytest.raises(LinliError) as exc:
        consult_notices.publish_notice(cw(world), project, kind="withdrawal", title="撤回", body="b")
    assert exc.value.problems[0].code == "not_withdrawn"
    assert not Notice.objects.exists()


# --- records published before snapshots existed -----------------------------------------------------


def test_the_migration_reconstructs_missing_snapshots(world, project):
    from django.apps import apps

    b = _counted_ballot(world, project)
    notice = consult_notices.publish_notice(
        cw(world), project, kind="result", title="结果公示", body="通过。", ballot=b
    )
    # as the rows were before migration 0003: no snapshots
    QuerySet.update(Notice.objects.filter(pk=notice.pk), snapshot=None, snapshot_sha256="")
    result = {k: v for k, v in b.result.items() if k != "snapshot"}
    Ballot.objects.filter(pk=b.pk).update(result=result)
    rename_compound(world, NEW)
    migration = importlib.import_module("linli.consult.migrations.0003_published_snapshots")
    migration.fill(apps, None)
    b.refresh_from_db()
    notice = Notice.objects.get(pk=notice.pk)
    # reconstructed from the rows as they are now (the best that can be rebuilt), and marked so
    assert b.result["snapshot"]["reconstructed"] is True and b.result["snapshot"]["compound"]["name"] == NEW
    assert b.result["counts"] == result["counts"]
    assert notice.snapshot["reconstructed"] is True and notice.snapshot["title"] == "结果公示"
    assert notice.snapshot["ballot"]["counts"]["voted"] == 18
    assert notice.snapshot_sha256 == snapshots.digest(notice.snapshot)
    migration.fill(apps, None)  # a second run changes nothing
    assert Notice.objects.get(pk=notice.pk).snapshot == notice.snapshot
