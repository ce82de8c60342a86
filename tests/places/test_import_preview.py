"""Imports in two steps (issue 8): upload → preview → confirm → apply, or cancel.

Every refusal here is checked for its bilingual message AND for nothing written: the whole roster
(every compound, building, unit, dwelling, person, ownership, household and resident, with the
values that matter) is the same before and after.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from linli.accounts.models import AccessLog
from linli.core import clock, crypto
from linli.core.errors import LinliError
from linli.places import models as m
from linli.places import services as svc
from tests.places.test_import_service import A, building, dwelling, make_csv, make_xlsx, tree, valid_id

OWNER_A_ID = "110101199003070011"  # world.owner_a, 张三, owner of dwelling_a (compound 0001, building 01, 1-101)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    clock.reset()
    yield
    clock.reset()


def roster_state() -> tuple[Any, ...]:
    """Everything an import could write, with the values that matter."""
    return (
        sorted(m.Compound.objects.values_list("id", "code", "name", "build_year")),
        sorted(m.Building.objects.values_list("id", "code", "name", "storeys", "has_lift", "lat", "lon")),
        sorted(m.Unit.objects.values_list("id", "building_id", "number")),
        sorted(m.Dwelling.objects.values_list("id", "unit_id", "number", "floor", "area", "area_source", "use")),
        sorted(m.Person.objects.values_list("id", "kind", "name", "id_number_hash", "phone_enc")),
        sorted(m.Ownership.objects.values_list("id", "dwelling_id", "person_id", "share")),
        sorted(m.Household.objects.values_list("id", "dwelling_id", "owner_occupied")),
        sorted(m.Resident.objects.values_list("id", "household_id", "person_id", "relation")),
        AccessLog.objects.filter(what="import").count(),
    )


def worker(world: Any) -> Any:
    return world.users["community_worker"]


def a_row(**kw: Any) -> dict[str, Any]:
    """A row for world.dwelling_a as it is (area 62.00), owned by 张三 with his ID number."""
    row = dwelling(compound="0001", bld="01", unit="1", number="101", area="62.00")
    row.update(owner_name="张三", owner_id_number=OWNER_A_ID)
    row.update(kw)
    return row


def preview_of(world: Any, rows: list[dict[str, Any]], user: Any = None, **kw: Any) -> m.ImportPreview:
    return svc.preview_roster(user or worker(world), make_csv(rows), "d.csv", community=world.comm_a, **kw)


def refused_at_upload(world: Any, data: io.BytesIO, name: str = "r.xlsx", **kw: Any) -> list[Any]:
    before = roster_state()
    previews = m.ImportPreview.objects.count()
    with pytest.raises(LinliError) as exc:
        svc.preview_roster(worker(world), data, name, community=world.comm_a, **kw)
    assert roster_state() == before and m.ImportPreview.objects.count() == previews, "a refused upload writes nothing"
    assert exc.value.status == 400
    for p in exc.value.problems:
        assert p.zh and p.en
    return exc.value.problems


def refused_at_confirm(user: Any, preview: m.ImportPreview, code: str, status: int = 409) -> Any:
    before = roster_state()
    with pytest.raises(LinliError) as exc:
        svc.apply_preview(user, preview)
    assert roster_state() == before, "a refused confirmation writes nothing"
    assert exc.value.status == status
    codes = [p.code for p in exc.value.problems]
    assert code in codes, exc.value.problems
    p = exc.value.problems[codes.index(code)]
    assert p.zh and p.en and p.zh != p.en
    return p


# --- the two steps ----------------------------------------------------------------------------------


def test_upload_writes_nothing_but_the_preview_then_confirm_applies(world: Any) -> None:
    bs, ds = tree()
    ds[0].update(owner_name="王五", owner_id_number=valid_id(1), owner_phone="13912345678", occupied="是")
    before = roster_state()
    preview = svc.preview_roster(worker(world), make_xlsx(bs, ds), "roster.xlsx", community=world.comm_a)
    assert roster_state() == before
    assert preview.status == "pending" and preview.created_by == worker(world) and preview.community == world.comm_a
    assert preview.path == world.comm_a.path and len(preview.sha256) == 64 and len(preview.fingerprint) == 64
    assert abs((preview.expires_at - preview.created_at) - timedelta(hours=24)) < timedelta(seconds=5)
    # the file is stored encrypted: no ID number or phone in clear in the database row
    raw = bytes(m.ImportPreview.objects.get(pk=preview.pk).data)
    assert valid_id(1).encode() not in raw and b"13912345678" not in raw
    assert hashlib.sha256(crypto.decrypt_bytes(raw)).hexdigest() == preview.sha256
    assert len(crypto.decrypt_bytes(raw)) == preview.size
    counts = preview.plan["counts"]
    assert counts["dwellings"]["created"] == 4 and counts["buildings"]["created"] == 2
    assert counts["compounds"]["created"] == 1 and counts["people"]["created"] == 1
    text = repr(preview.plan)
    assert valid_id(1) not in text and "13912345678" not in text, "personal data in the plan is masked"
    assert "139****5678" in text
    result = svc.apply_preview(worker(world), preview)
    assert result.created["dwellings"] == 4 and result.preview_id == preview.pk
    preview.refresh_from_db()
    assert preview.status == "applied" and preview.decided_by == worker(world) and bytes(preview.data) == b""
    assert preview.result["counts"]["dwellings"]["created"] == 4
    assert [e["action"] for e in preview.log] == ["upload", "apply"]
    log = AccessLog.objects.filter(what="import").latest("at")
    assert log.path == world.comm_a.path and f"#{preview.pk}" in log.reason


def test_changes_are_listed_field_by_field_old_to_new(world: Any) -> None:
    """The demo's complaint: an example row moved 1栋 and changed its storeys without a word."""
    b = building(compound="0001", code="01", compound_name="劳动三村小区", compound_build_year=1958)
    b.update(building_name="1栋", storeys=7, lat=29.55, lon=106.55, build_year=None, has_lift="否")
    ds = [a_row(area="63.50", use="商业")]
    before = roster_state()
    preview = svc.preview_roster(worker(world), make_xlsx([b], ds), "r.xlsx", community=world.comm_a)
    assert roster_state() == before
    changed = {(e["kind"], e["row"]): e["fields"] for e in preview.plan["changed"]}
    fields = {f[0]: (f[1], f[2]) for f in changed[("buildings", 2)]}
    assert fields["storeys"] == (6, 7)
    assert fields["lat"][1] == 29.55 and fields["lon"][1] == 106.55
    d = {f[0]: (f[1], f[2]) for f in changed[("dwellings", 2)]}
    assert d["area"] == ("62.00", "63.50") and d["use"] == ("residential", "commercial")


def test_cancel_writes_nothing_but_the_status(world: Any) -> None:
    preview = svc.preview_roster(worker(world), make_xlsx(*tree()), "r.xlsx", community=world.comm_a)
    before = roster_state()
    svc.cancel_preview(worker(world), preview)
    assert roster_state() == before
    preview.refresh_from_db()
    assert preview.status == "cancelled" and bytes(preview.data) == b"" and preview.log[-1]["action"] == "cancel"
    p = refused_at_confirm(worker(world), preview, "cancelled")
    assert "取消" in p.zh and "cancelled" in p.en


def test_confirming_twice_is_refused(world: Any) -> None:
    preview = svc.preview_roster(worker(world), make_xlsx(*tree()), "r.xlsx", community=world.comm_a)
    svc.apply_preview(worker(world), preview)
    p = refused_at_confirm(worker(world), preview, "already_applied")
    assert "已由" in p.zh and "already applied" in p.en


def test_expired_preview_is_refused(world: Any, settings: Any) -> None:
    settings.LINLI_IMPORT_PREVIEW_HOURS = 2
    preview = svc.preview_roster(worker(world), make_xlsx(*tree()), "r.xlsx", community=world.comm_a)
    assert abs((preview.expires_at - preview.created_at) - timedelta(hours=2)) < timedelta(seconds=5)
    clock.travel(clock.now() + timedelta(hours=2, minutes=1))
    p = refused_at_confirm(worker(world), preview, "expired")
    assert "过期" in p.zh and "expired" in p.en
    preview.refresh_from_db()
    assert preview.status == "pending", "a refused confirmation writes nothing, not even the status"
    assert svc.expire_previews() == 1  # housekeeping (cron, or the next upload) marks it and wipes the file
    preview.refresh_from_db()
    assert preview.status == "expired" and bytes(preview.data) == b""
    refused_at_confirm(worker(world), preview, "expired")


def test_file_changed_between_preview_and_confirm(world: Any) -> None:
    preview = svc.preview_roster(worker(world), make_xlsx(*tree()), "r.xlsx", community=world.comm_a)
    # someone alters the stored file: another (validly encrypted) file under the same preview
    other = make_xlsx([building(code="01")], [dwelling(number="101", area="99.99")]).getvalue()
    m.ImportPreview.objects.filter(pk=preview.pk).update(data=crypto.encrypt_bytes(other))
    p = refused_at_confirm(worker(world), preview, "file_changed")
    assert "文件已被改动" in p.zh and "file changed" in p.en
    # or corrupts its bytes
    m.ImportPreview.objects.filter(pk=preview.pk).update(data=b"garbage")
    refused_at_confirm(worker(world), preview, "file_changed")


def test_database_changed_between_preview_and_confirm(world: Any) -> None:
    """Two previews of the same community: once one is applied, the other is refused (its plan
    was computed from data that is no longer there)."""
    bs, ds = tree()
    first = svc.preview_roster(worker(world), make_xlsx(bs, ds), "a.xlsx", community=world.comm_a)
    second = preview_of(world, [a_row(area="70.00")])
    svc.apply_preview(worker(world), first)
    p = refused_at_confirm(worker(world), second, "db_changed")
    assert "相关数据已被改动" in p.zh and "changed since" in p.en
    # a change by any other way (here the admin) is seen too
    third = preview_of(world, [a_row(area="71.00")])
    m.Dwelling.objects.filter(pk=world.dwelling_b.pk).update(area=Decimal("99.00"))  # community B: not seen
    m.Dwelling.objects.filter(pk=world.dwelling_a.pk + 1).update(floor=2)  # community A: seen
    refused_at_confirm(worker(world), third, "db_changed")


def test_only_edit_on_the_community_may_confirm(world: Any) -> None:
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    preview = preview_of(world, [a_row(area="64.00")])
    before = roster_state()
    with pytest.raises(Http404):
        svc.apply_preview(world.outsider, preview)  # community B's worker: not even visible
    with pytest.raises(PermissionDenied):
        svc.apply_preview(world.users["street_command"], preview)  # sees community A, may not edit
    with pytest.raises(Http404):
        svc.cancel_preview(world.users["grid_leader"], preview)
    assert roster_state() == before
    preview.refresh_from_db()
    assert preview.status == "pending"
    # another worker of the same community may: the district administrator here
    svc.apply_preview(world.users["district_admin"], preview)
    world.dwelling_a.refresh_from_db()
    assert world.dwelling_a.area == Decimal("64.00")


# --- people are never merged or renamed by a file -----------------------------------------------


def test_same_id_with_a_different_name_is_a_conflict_until_decided(world: Any) -> None:
    """Issue 8 (2): a row with 王建国's ID number and the name 吴十 renamed him everywhere."""
    preview = preview_of(world, [a_row(owner_name="吴十")])
    [c] = preview.plan["conflicts"]
    assert c["kind"] == "id_name" and c["person_name"] == "张三" and c["file_name"] == "吴十" and c["rows"] == [2]
    assert c["person_id_masked"] == world.owner_a.id_number_masked and OWNER_A_ID not in repr(preview.plan)
    assert c["choices"] == ["rename", "stop"] and c["person_dwellings"] == 1
    p = refused_at_confirm(worker(world), preview, "unresolved_conflicts")
    assert "人员冲突未确认" in p.zh and "not decided" in p.en
    world.owner_a.refresh_from_db()
    assert world.owner_a.name == "张三"
    # decided: the same person, the file's name is right → renamed, logged, nothing else changes
    svc.resolve_conflicts(worker(world), preview, {c["id"]: "rename"})
    preview.refresh_from_db()
    assert preview.resolutions == {"c1": "rename"}
    entry = preview.log[-1]
    assert entry["action"] == "resolve" and entry["user"] == "community_worker" and "吴十" in entry["zh"]
    assert OWNER_A_ID not in repr(preview.log)
    result = svc.apply_preview(worker(world), preview)
    world.owner_a.refresh_from_db()
    assert world.owner_a.name == "吴十" and m.Person.objects.filter(name="张三").count() == 0
    assert result.updated["people"] == 1
    assert "renamed 1" in AccessLog.objects.filter(what="import").latest("at").reason


def test_stop_cancels_the_preview(world: Any) -> None:
    preview = preview_of(world, [a_row(owner_name="吴十")])
    before = roster_state()
    svc.resolve_conflicts(worker(world), preview, {"c1": "stop"})
    assert roster_state() == before
    preview.refresh_from_db()
    assert preview.status == "cancelled" and preview.log[-1]["action"] == "stop"
    refused_at_confirm(worker(world), preview, "cancelled")
    with pytest.raises(LinliError) as exc:
        svc.resolve_conflicts(worker(world), preview, {"c1": "rename"})
    assert exc.value.status == 409


def test_bad_decisions_are_refused(world: Any) -> None:
    preview = preview_of(world, [a_row(owner_name="吴十")])
    for choices in ({"c1": "separate"}, {"c9": "rename"}, {}):
        with pytest.raises(LinliError) as exc:
            svc.resolve_conflicts(worker(world), preview, choices)
        assert exc.value.status == 400 and exc.value.problems[0].zh and exc.value.problems[0].en
    preview.refresh_from_db()
    assert preview.resolutions == {} and preview.status == "pending"


def test_same_name_with_a_different_id_is_a_conflict(world: Any) -> None:
    """A namesake of an owner of this community with another ID number: the same person with a
    mistyped ID, or two people? Never decided by the file."""
    other = valid_id(5, year=1990)
    row = dwelling(compound="0001", bld="01", unit="1", number="102", area="63.00")
    row.update(owner_name="张三", owner_id_number=other)
    preview = preview_of(world, [row])
    [c] = preview.plan["conflicts"]
    assert c["kind"] == "name_id" and c["person_id"] == world.owner_a.pk and c["choices"] == ["separate", "stop"]
    assert c["person_id_masked"] == world.owner_a.id_number_masked and other not in repr(preview.plan)
    refused_at_confirm(worker(world), preview, "unresolved_conflicts")
    svc.resolve_conflicts(worker(world), preview, {"c1": "separate"})
    svc.apply_preview(worker(world), preview)
    assert m.Person.objects.filter(name="张三").count() == 2
    assert m.Person.objects.get(id_number_hash=crypto.lookup_hash(OWNER_A_ID)).ownerships.count() == 1


def test_same_name_born_another_year_is_no_conflict(world: Any) -> None:
    world.owner_a.birth_year = 1990
    world.owner_a.save()
    row = dwelling(compound="0001", bld="01", unit="1", number="102", area="63.00")
    row.update(owner_name="张三", owner_id_number=valid_id(5, year=1970))
    preview = preview_of(world, [row])
    assert preview.plan["conflicts"] == []
    row.update(owner_id_number=valid_id(6, year=1990))
    assert len(preview_of(world, [row]).plan["conflicts"]) == 1


def test_import_roster_in_one_call_refuses_conflicts(world: Any) -> None:
    before = roster_state()
    with pytest.raises(LinliError) as exc:
        svc.import_roster(worker(world), make_csv([a_row(owner_name="吴十")]), "d.csv")
    assert roster_state() == before
    assert exc.value.status == 409 and exc.value.problems[0].code == "unresolved_conflicts"
    assert exc.value.problems[1].code == "person_conflict" and exc.value.problems[1].row == 2
    assert "吴十" in exc.value.problems[1].zh and OWNER_A_ID not in exc.value.problems[1].zh
    # its preview waits on the page for a worker's decision
    preview = m.ImportPreview.objects.get()
    assert preview.status == "pending" and f"#{preview.pk}" in exc.value.problems[0].en
    svc.resolve_conflicts(worker(world), preview, {"c1": "rename"})
    svc.apply_preview(worker(world), preview)
    assert m.Person.objects.get(pk=world.owner_a.pk).name == "吴十"


def test_import_roster_in_one_call_stores_an_applied_preview(world: Any) -> None:
    result = svc.import_roster(worker(world), make_xlsx(*tree()), "r.xlsx")
    preview = m.ImportPreview.objects.get()
    assert result.preview_id == preview.pk and preview.status == "applied" and bytes(preview.data) == b""
    assert preview.community is None and preview.path == world.comm_a.path


# --- the template's example row -------------------------------------------------------------------


def test_the_example_row_left_in_is_refused_with_that_reason(world: Any) -> None:
    from linli.places import importing

    buf = io.BytesIO()
    importing.write_template(buf)
    import openpyxl

    buf.seek(0)
    wb = openpyxl.load_workbook(buf)
    # the worker adds a real row under the example and forgets to delete the example
    ws = wb["房屋 dwellings"]
    ws.append([A, "0001", "01", "1", "101", 1, 62])
    out = io.BytesIO()
    wb.save(out)
    problems = refused_at_upload(world, out)
    examples = [p for p in problems if p.code == "example_row"]
    assert [(p.row, p.column) for p in examples] == [
        (2, "楼栋 buildings · 社区编码 community_code"),
        (2, "房屋 dwellings · 社区编码 community_code"),
    ]
    assert "这是模板的示例行,请删除此行" in examples[0].zh
    assert "This is the template's example row; delete it" in examples[0].en


# --- frozen rolls ------------------------------------------------------------------------------------


@pytest.fixture
def open_roll(world: Any) -> Any:
    from tests.consult.test_ballots_helpers import open_ballot, own_building

    own_building(world)
    return open_ballot(world, title="外墙改造表决")


def test_a_row_for_a_dwelling_on_a_frozen_roll_is_refused(world: Any, open_roll: Any) -> None:
    ds = [a_row(area="80.00")]
    problems = refused_at_upload(world, make_csv(ds), "d.csv")
    [p] = problems
    assert p.code == "frozen_roll" and p.row == 2 and p.column == "面积 area"
    day = clock_day(open_roll.closes_at)
    assert "外墙改造表决" in p.zh and "冻结名册" in p.zh and day in p.zh
    assert "frozen roll of ballot «外墙改造表决» until " + day in p.en


def test_frozen_roll_owners_use_and_new_dwellings(world: Any, open_roll: Any) -> None:
    owner = [a_row(owner_name="赵九", owner_id_number=valid_id(9))]
    assert refused_at_upload(world, make_csv(owner), "d.csv")[0].column == "产权人 owner_name"
    use = [a_row(use="商业")]
    assert "use" in refused_at_upload(world, make_csv(use), "d.csv")[0].en
    added = [dwelling(compound="0001", bld="01", unit="1", number="103", area="60.00")]
    p = refused_at_upload(world, make_csv(added), "d.csv")[0]
    assert p.code == "frozen_roll" and "cannot be added" in p.en and "新增" in p.zh
    # what does not change the counts passes: the floor of a dwelling, a household
    fine = [a_row(floor=1, occupied="是")]
    preview_of(world, fine)


def test_a_ballot_opened_after_the_preview_blocks_the_confirmation(world: Any) -> None:
    from tests.consult.test_ballots_helpers import open_ballot, own_building

    preview = preview_of(world, [a_row(area="80.00")])
    own_building(world)
    preview = m.ImportPreview.objects.get(pk=preview.pk)
    open_ballot(world, title="外墙改造表决")
    before = roster_state()
    with pytest.raises(LinliError) as exc:
        svc.apply_preview(worker(world), preview)
    assert roster_state() == before and exc.value.status == 409
    codes = [p.code for p in exc.value.problems]
    assert codes[0] == "preview_outdated" and "frozen_roll" in codes


def clock_day(at: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(at).date().isoformat()


# --- every problem at once (the "two rounds" bug) ----------------------------------------------------


def test_every_kind_of_problem_in_one_round(world: Any) -> None:
    bs, ds = tree()
    ds[0]["area"] = "abc"  # a cell error …
    ds[0]["floor"] = 9  # … on a row whose floor is also above the building's 7 storeys
    ds.append(dict(ds[1]))  # a duplicate dwelling (row 6 = row 3)
    ds[2]["floor"] = 8  # floor above the storeys
    ds[3]["building_code"] = "09"  # an unknown building
    ds[3]["owner_phone"] = "12"  # and a bad phone on the same row
    bad_building = building(code="03", storeys="x")  # a building row with a cell error …
    bs.append(bad_building)
    ds.append(dwelling(bld="03", number="901", floor=9, owner_name="", share="2"))  # … its dwelling: no "unknown"
    problems = refused_at_upload(world, make_xlsx(bs, ds))
    found = {(p.code, p.row, p.column.split(" · ")[-1] if p.column else None) for p in problems}
    assert ("value", 2, "面积 area") in found
    assert ("value", 2, "楼层 floor") in found, "the floor of a row with a cell error is checked in the same round"
    assert ("duplicate", 6, "房屋 dwellings") in found
    assert ("value", 4, "楼层 floor") in found
    assert ("unknown_building", 5, "楼栋编码 building_code") in found
    assert ("value", 5, "产权人电话 owner_phone") in found
    assert ("value", 4, "层数 storeys") in found  # the building row
    assert ("value", 7, "产权份额 share") in found
    assert not [p for p in problems if p.code == "unknown_building" and p.row == 7]
    rows = [p.row for p in problems]
    assert rows == sorted(rows), "listed by row"


def test_fewer_storeys_than_dwellings_on_record_is_a_problem(world: Any) -> None:
    b = building(compound="0001", code="01", compound_name="劳动三村小区", compound_build_year=1958)
    b.update(building_name="1栋", storeys=5, build_year=None, lat=None, lon=None)
    [p] = refused_at_upload(world, make_csv([b], spec=importing_buildings()), "b.csv")
    assert p.row == 2 and p.column == "层数 storeys" and "6" in p.zh and "floor 6" in p.en


def importing_buildings() -> Any:
    from linli.places import importing

    return importing.BUILDINGS


def test_refused_upload_shows_what_the_good_rows_would_do(world: Any) -> None:
    bs, ds = tree()
    ds[0]["area"] = "abc"
    with pytest.raises(svc.ImportRefused) as exc:
        svc.preview_roster(worker(world), make_xlsx(bs, ds), "r.xlsx", community=world.comm_a)
    plan = exc.value.plan
    assert plan["counts"]["dwellings"]["created"] == 3 and m.ImportPreview.objects.count() == 0
    assert exc.value.as_dict()["preview"] == plan


# --- boundaries ---------------------------------------------------------------------------------------


def test_boundaries_preview_then_apply(world: Any) -> None:
    from tests.places.test_import_service import fc, feat, square

    data = fc(feat({"kind": "building", "path": world.building_a.path}, square(106.5, 29.5)))
    preview = svc.preview_boundaries(worker(world), data, "b.geojson", community=world.comm_a)
    world.building_a.refresh_from_db()
    assert world.building_a.boundary is None and preview.kind == "boundaries"
    [e] = preview.plan["changed"]
    assert e["fields"][0] == ["boundary", None, "Polygon · 5"]
    # another upload changes the same building first: the older preview is refused
    other = fc(feat({"kind": "building", "path": world.building_a.path}, square(106.6, 29.6)))
    svc.apply_preview(worker(world), svc.preview_boundaries(worker(world), other, "c.geojson", community=world.comm_a))
    before = world.building_a.__class__.objects.get(pk=world.building_a.pk).boundary
    refused_at_confirm(worker(world), preview, "db_changed")
    assert m.Building.objects.get(pk=world.building_a.pk).boundary == before


def test_a_dwelling_left_off_the_roll_cannot_join_it_while_the_ballot_is_open(world: Any) -> None:
    from tests.consult.test_ballots_helpers import open_ballot, own_building

    own_building(world)
    other = m.Dwelling.objects.get(unit__building=world.building_a, unit__number="1", number="102")
    other.use = "other"  # left off the roll (rules: residential and commercial dwellings vote)
    other.save()
    ballot = open_ballot(world, title="外墙改造表决")
    assert not ballot.roll.filter(dwelling=other).exists()
    row = dwelling(compound="0001", bld="01", unit="1", number="102", area=str(other.area), use="住宅")
    [p] = refused_at_upload(world, make_csv([row]), "d.csv")
    assert p.code == "frozen_roll" and "在表决“外墙改造表决”的范围内" in p.zh and "in the scope of ballot" in p.en


def test_guards_registry(db: Any) -> None:
    from linli.consult.import_guard import frozen_rolls
    from linli.core.errors import Problem
    from linli.places import guards

    assert frozen_rolls in guards.import_guards(), "consult registers its guard in ready()"
    guards.register_import_guard(frozen_rolls)
    assert guards.import_guards().count(frozen_rolls) == 1

    def veto(changes: guards.PlannedChanges) -> list[Problem]:
        return [Problem("veto", "否决", "vetoed", row=d.row) for d in changes.dwellings]

    guards.register_import_guard(veto)
    try:
        d = guards.PlannedDwelling(2, None, "x", None, None, None, 1, frozenset({"new"}))
        assert [p.code for p in guards.check(guards.PlannedChanges((d,)))] == ["veto"]
        assert guards.check(guards.PlannedChanges(())) == []
    finally:
        guards.unregister_import_guard(veto)
    assert veto not in guards.import_guards()
