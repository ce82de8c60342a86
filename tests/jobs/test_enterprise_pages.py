"""Pages of the key-enterprise services (issue 14 §6): every route with every role (the matrix), the
queue and the enterprise's own list, filing with its errors, the request page's steps (409 in the
wrong state), the rating form only when closed, the key enterprises and their officers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.services import grant_role
from linli.core import clock
from linli.jobs.models import Employer, ServiceRequest, ServiceStep
from linli.jobs.services import enterprise as svc
from tests import factories as f
from tests.accounts.test_permission_matrix import roles
from tests.jobs.conftest import make_employer

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 4 Dec 2026, 10:00 in Chongqing

# who serves the street-1 enterprise's requests (``jobs`` at street 1 or above)
SERVE_S1 = {"district_admin", "street_command", "employment_officer", "superuser"}
# who holds ``jobs`` somewhere (the queue and the key-enterprise list open, maybe empty)
SERVE_ANY = SERVE_S1 | {"community_worker", "outsider", "officer_s2"}
# who sees the street-1 employer and its requests but may not serve them
SEE_S1 = {"department_staff"}


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with clock.frozen(NOW):
        yield


@pytest.fixture
def key(world: Any, jobs: SimpleNamespace) -> SimpleNamespace:
    jobs.employer.key_enterprise = True
    jobs.employer.officer = jobs.officer
    jobs.employer.save(update_fields=["key_enterprise", "officer"])
    officer_s2 = f.UserFactory(username="officer_s2")
    grant_role(world.admin, officer_s2, "employment_officer", world.street2)
    plain_user = f.UserFactory(username="plain_member")
    plain = make_employer(world.street1, "普通商贸有限公司", "91500107MA5U4XKX3C", user=plain_user)
    return SimpleNamespace(**vars(jobs), officer_s2=officer_s2, plain=plain, plain_user=plain_user)


def users(world: Any, k: SimpleNamespace) -> dict[str, Any]:
    return {
        **roles(world),
        "superuser": world.admin,
        "seeker": k.seeker_user,
        "member": k.employer_user,
        "plain_member": k.plain_user,
        "officer_s2": k.officer_s2,
    }


def test_service_pages_matrix(world: Any, key: SimpleNamespace) -> None:
    """Each route × anonymous, every world role, the seeker, the key enterprise's member, a non-key
    employer's member, another street's officer and the superuser → the expected status."""
    req = svc.file(key.employer_user, key.employer, kind="recruitment", title="招聘数控车工", detail="5 名")
    routes = {
        "list": ("get", reverse("jobs:service_list"), {}),
        "new": ("get", reverse("jobs:service_new", args=[key.employer.pk]), {}),
        "new_plain": ("get", reverse("jobs:service_new", args=[key.plain.pk]), {}),
        "detail": ("get", reverse("jobs:service_detail", args=[req.pk]), {}),
        "act": ("post", reverse("jobs:service_act", args=[req.pk]), {"do": "bogus"}),
        "rate": ("post", reverse("jobs:service_rate", args=[req.pk]), {"satisfaction": "5"}),
        "enterprises": ("get", reverse("jobs:enterprise_list"), {}),
        "set": ("post", reverse("jobs:enterprise_set", args=[key.plain.pk]), {"key": "0", "officer": ""}),
    }

    def expected(role: str, route: str) -> int:
        if role == "anonymous":
            return 302
        member, plain = role == "member", role == "plain_member"
        if route == "list":
            return 200 if role in SERVE_ANY or member or plain else 403
        if route == "new":
            return 200 if member else 403 if role in SERVE_S1 | SEE_S1 else 404
        if route == "new_plain":
            return 403 if plain or role in SERVE_S1 | SEE_S1 else 404
        if route == "detail":
            return 200 if member or role in SERVE_S1 else 403 if role in SEE_S1 else 404
        if route == "act":
            return 400 if role in SERVE_S1 else 403 if member or role in SEE_S1 else 404
        if route == "rate":  # a filed request: the member is told it is not closed yet
            return 409 if member else 403 if role in SERVE_S1 | SEE_S1 else 404
        if route == "enterprises":
            return 200 if role in SERVE_ANY else 403
        if route == "set":
            return 303 if role in SERVE_S1 else 403 if plain or role in SEE_S1 else 404
        raise AssertionError(route)

    failures = []
    everyone = {"anonymous": None, **users(world, key)}
    for role, user in everyone.items():
        c = Client()
        if user is not None:
            c.force_login(user)
        for route, (method, url, data) in routes.items():
            r = getattr(c, method)(url, data)
            want = expected(role, route)
            if r.status_code != want:
                failures.append(f"{role} {route} → {r.status_code}, expected {want}")
    assert not failures, "\n".join(failures)
    assert ServiceRequest.objects.get(pk=req.pk).status == "filed"  # nobody changed it
    assert list(ServiceStep.objects.filter(request=req).values_list("kind", flat=True)) == ["file"]


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_filing_on_the_page(key: SimpleNamespace) -> None:
    c = _client(key.employer_user)
    url = reverse("jobs:service_new", args=[key.employer.pk])
    page = c.get(url).content.decode()
    assert 'name="kind"' in page and "3 个工作日" in page and "社会保险" in page
    r = c.post(url, {"kind": "social_security", "title": "", "detail": "12 人参保"})
    assert r.status_code == 400 and "请填写标题" in r.content.decode()
    assert "12 人参保" in r.content.decode()  # what was typed is kept
    r = c.post(url, {"kind": "nope", "title": "x", "detail": "y"})
    assert r.status_code == 400 and "请选择需求类别" in r.content.decode()
    assert not ServiceRequest.objects.exists()
    r = c.post(url, {"kind": "social_security", "title": "新员工参保", "detail": "12 人参保"})
    req = ServiceRequest.objects.get()
    assert r.status_code == 303 and r["Location"] == reverse("jobs:service_detail", args=[req.pk])
    page = c.get(r["Location"]).content.decode()
    assert "FW20261204-0001" in page and "2026-12-09 23:59" in page and 'data-testid="timeline"' in page
    assert 'data-testid="form-rate"' not in page and 'data-testid="move-list"' not in page


def test_a_non_key_enterprise_is_told_why(key: SimpleNamespace) -> None:
    c = _client(key.plain_user)
    r = c.get(reverse("jobs:service_new", args=[key.plain.pk]))
    assert r.status_code == 403 and "重点企业" in r.content.decode()
    page = c.get(reverse("jobs:service_list")).content.decode()
    assert "不是街道的重点企业" in page or "重点企业" in page
    assert 'data-testid="file-request"' not in page
    r = c.post(reverse("jobs:service_new", args=[key.plain.pk]), {"kind": "training", "title": "x", "detail": "y"})
    assert r.status_code == 403 and not ServiceRequest.objects.exists()


def test_the_officer_works_the_request_and_the_enterprise_rates_it(key: SimpleNamespace) -> None:
    req = svc.file(key.employer_user, key.employer, kind="recruitment", title="招聘数控车工", detail="5 名,13800138000")
    officer, member = _client(key.officer), _client(key.employer_user)
    url = reverse("jobs:service_detail", args=[req.pk])
    act = reverse("jobs:service_act", args=[req.pk])
    page = officer.get(url).content.decode()
    assert 'data-testid="choose-accept"' in page and 'data-testid="choose-close"' not in page
    assert "13800138000" not in page  # a number typed in the detail is masked for the officer
    assert "13800138000" in member.get(url).content.decode()  # the enterprise reads its own text
    r = officer.post(act, {"do": "progress", "note": "先看看"})
    assert r.status_code == 409 and "受理后" in r.content.decode()
    assert officer.post(act, {"do": "accept", "note": ""}).status_code == 303
    r = officer.post(act, {"do": "accept", "note": ""})  # the double submit
    assert r.status_code == 409 and "只有待受理的服务单可以受理" in r.content.decode()
    r = officer.post(act, {"do": "close", "note": ""})
    assert r.status_code == 400 and "请填写办理结果" in r.content.decode()
    assert officer.post(act, {"do": "progress", "note": "已发布招聘信息"}).status_code == 303
    assert member.post(act, {"do": "close", "note": "自己关"}).status_code == 403
    page = member.get(url).content.decode()
    assert "已发布招聘信息" in page and 'data-testid="form-rate"' not in page
    assert officer.post(act, {"do": "close", "note": "已推荐 8 人,录用 5 人"}).status_code == 303
    page = member.get(url).content.decode()
    assert 'data-testid="form-rate"' in page and "已推荐 8 人" in page
    rate = reverse("jobs:service_rate", args=[req.pk])
    r = member.post(rate, {"satisfaction": "9"})
    assert r.status_code == 400 and "1 到 5" in r.content.decode()
    assert member.post(rate, {"satisfaction": "5", "note": "很好"}).status_code == 303
    r = member.post(rate, {"satisfaction": "1"})
    assert r.status_code == 409 and "已经评价过" in r.content.decode()
    page = member.get(url).content.decode()
    assert 'data-testid="form-rate"' not in page and "5 / 5" in page
    kinds = [k for k in ServiceStep.objects.filter(request=req).order_by("pk").values_list("kind", flat=True)]
    assert kinds == ["file", "accept", "progress", "close", "rate"]


def test_reassign_and_reject_on_the_page(key: SimpleNamespace, world: Any) -> None:
    req = svc.file(key.employer_user, key.employer, kind="training", title="培训", detail="20 人")
    c = _client(key.officer)
    act = reverse("jobs:service_act", args=[req.pk])
    page = c.get(reverse("jobs:service_detail", args=[req.pk])).content.decode()
    command = world.users["street_command"]
    assert f'value="{command.pk}"' in page  # the street command centre may take it over
    assert f'value="{key.officer_s2.pk}"' not in page
    r = c.post(act, {"do": "reassign", "officer": str(key.officer_s2.pk)})
    assert r.status_code == 400
    assert c.post(act, {"do": "reassign", "officer": str(command.pk)}).status_code == 303
    assert ServiceRequest.objects.get(pk=req.pk).officer_id == command.pk
    r = c.post(act, {"do": "reject", "note": ""})
    assert r.status_code == 400 and "不予受理的原因" in r.content.decode()
    assert c.post(act, {"do": "reject", "note": "请向区人社局申请"}).status_code == 303
    page = _client(key.employer_user).get(reverse("jobs:service_detail", args=[req.pk])).content.decode()
    assert "请向区人社局申请" in page and "不予受理" in page


def test_the_queue_page_shows_overdue_and_figures(key: SimpleNamespace) -> None:
    a = svc.file(key.employer_user, key.employer, kind="social_security", title="参保", detail="x")
    b = svc.accept(key.officer, svc.file(key.employer_user, key.employer, kind="subsidy", title="补贴", detail="y"))
    with clock.frozen(NOW + timedelta(days=7)):
        c = _client(key.officer)
        page = c.get(reverse("jobs:service_list")).content.decode()
        assert 'data-testid="queue"' in page and 'data-testid="figures"' in page
        assert page.index(a.number) < page.index(b.number)
        assert page.count('data-testid="overdue"') == 1
        overdue = c.get(reverse("jobs:service_list"), {"overdue": "1"}).content.decode()
        assert a.number in overdue and b.number not in overdue
        own = _client(key.employer_user).get(reverse("jobs:service_list")).content.decode()
        assert 'data-testid="own-list"' in own and 'data-testid="queue"' not in own
        assert a.number in own and 'data-testid="file-request"' in own
        bad = c.get(reverse("jobs:service_list"), {"page": "x", "kind": "<b>", "officer": "-1"})
        assert bad.status_code == 200


def test_the_key_enterprise_list_assigns_officers(key: SimpleNamespace, world: Any) -> None:
    c = _client(key.officer)
    page = c.get(reverse("jobs:enterprise_list")).content.decode()
    assert key.employer.name in page and key.plain.name not in page
    page = c.get(reverse("jobs:enterprise_list"), {"add": "普通"}).content.decode()
    assert 'data-testid="candidates"' in page and key.plain.name in page
    assert key.pending.name not in c.get(reverse("jobs:enterprise_list"), {"add": "待审核"}).content.decode()
    set_url = reverse("jobs:enterprise_set", args=[key.plain.pk])
    r = c.post(set_url, {"key": "1", "officer": str(key.officer_s2.pk)})
    assert r.status_code == 400 and not Employer.objects.get(pk=key.plain.pk).key_enterprise
    r = c.post(set_url, {"key": "1", "officer": str(key.officer.pk), "next": "https://evil.example/"})
    assert r.status_code == 303 and r["Location"] == reverse("jobs:enterprise_list")
    plain = Employer.objects.get(pk=key.plain.pk)
    assert plain.key_enterprise and plain.officer_id == key.officer.pk
    r = c.post(reverse("jobs:enterprise_set", args=[key.pending.pk]), {"key": "1"})
    assert r.status_code == 409
    assert c.post(set_url, {"key": "0"}).status_code == 303
    assert not Employer.objects.get(pk=key.plain.pk).key_enterprise
    page = c.get(reverse("jobs:enterprise_list"), {"no_officer": "1"}).content.decode()
    assert key.employer.name not in page  # it has its officer
