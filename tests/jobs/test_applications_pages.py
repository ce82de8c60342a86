"""The application pages (issue 14 §4): the permission matrix of every route, the apply form and its
slip, the seeker's list with invitations, the applicants list for the employer (masked phone, "show
phone" in place with htmx and logged), the steps through ``application_act`` with their refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from linli.accounts.models import AccessLog
from linli.accounts.services import grant_role
from linli.core import clock
from linli.jobs.models import Application, Placement, Posting
from linli.jobs.services import applications as svc
from tests import factories as f
from tests.jobs.conftest import make_posting

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with clock.frozen(NOW):
        yield


@pytest.fixture
def people(jobs: Any, world: Any) -> dict[str, Any]:
    other_officer = f.UserFactory(username="officer_street2")
    grant_role(world.admin, other_officer, "employment_officer", world.street2)
    return {
        "anonymous": None,
        "outsider": f.UserFactory(username="nobody"),
        "seeker": jobs.seeker_user,
        "other_seeker": jobs.hidden_user,
        "employer": jobs.employer_user,
        "pending_employer": jobs.pending_user,
        "officer": jobs.officer,
        "other_street_officer": other_officer,
        "department_staff": world.users["department_staff"],  # VIEW at the street, no JOBS
        "superuser": world.admin,
    }


def test_applications_pages_matrix(jobs: Any, world: Any, people: dict[str, Any], client: Any, client_for: Any) -> None:
    """Each route × each kind of person → the expected status (302 = to the sign-in page)."""
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    draft = make_posting(jobs.employer, "草稿岗位", ["6-18-01-01"], status=Posting.Status.DRAFT)
    live, pk = jobs.posting.pk, app.pk
    routes: list[tuple[str, str, str, dict[str, str], dict[str, int]]] = [
        # name, method, url, data, {person: status}; a person not named expects "default"
        ("jobs:apply", "get", reverse("jobs:apply", args=[live]), {}, {"default": 200}),
        ("jobs:apply", "post", reverse("jobs:apply", args=[live]), {}, {"default": 200}),
        (
            "jobs:apply",
            "get",
            reverse("jobs:apply", args=[draft.pk]),
            {},
            {"default": 404, "employer": 200, "officer": 200, "superuser": 200, "department_staff": 200},
        ),
        ("jobs:application_mine", "get", reverse("jobs:application_mine"), {}, {"default": 200}),
        (
            "jobs:application_detail",
            "get",
            reverse("jobs:application_detail", args=[pk]),
            {},
            {"default": 404, "seeker": 200, "employer": 200, "officer": 200, "superuser": 200, "department_staff": 403},
        ),
        (
            "jobs:posting_applicants",
            "get",
            reverse("jobs:posting_applicants", args=[live]),
            {},
            {"default": 404, "employer": 200, "officer": 200, "superuser": 200, "department_staff": 403},
        ),
        (
            "jobs:application_act",
            "post",
            reverse("jobs:application_act", args=[pk]),
            {"do": "contact"},
            {
                "default": 404,
                "seeker": 403,
                "employer": 200,
                "officer": 403,
                "superuser": 403,
                "department_staff": 403,
            },
        ),
        (
            "jobs:application_act",
            "post",
            reverse("jobs:application_act", args=[pk]),
            {"do": "nonsense"},
            {
                "default": 404,
                "seeker": 400,
                "employer": 400,
                "officer": 400,
                "superuser": 400,
                "department_staff": 403,
            },
        ),
    ]
    failures = []
    for who, user in people.items():
        c = client_for(user) if user is not None else client
        for name, method, url, data, expected in routes:
            want = 302 if user is None else expected.get(who, expected["default"])
            r = getattr(c, method)(url, data)
            if r.status_code != want:
                failures.append(f"{who} {method.upper()} {name} {url} {data} → {r.status_code}, expected {want}")
            if user is None and r.status_code == 302:
                assert "/accounts/login/" in r["Location"] or "login" in r["Location"], r["Location"]
    assert not failures, "\n".join(failures)
    app.refresh_from_db()
    assert app.status == "applied"  # nothing above changed it
    assert AccessLog.objects.filter(what="reveal_phone").count() == 1  # the employer's one read
    assert client_for(jobs.seeker_user).post(reverse("jobs:application_mine")).status_code == 405
    assert client_for(jobs.seeker_user).get(reverse("jobs:application_act", args=[pk])).status_code == 405


def test_apply_form_then_the_slip(jobs: Any, client_for: Any) -> None:
    c = client_for(jobs.seeker_user)
    url = reverse("jobs:apply", args=[jobs.posting.pk])
    page = c.post(url).content.decode()  # the posting page's Apply button: the form, nothing sent yet
    assert 'data-testid="apply-form"' in page and "数控车工" in page and not Application.objects.exists()
    r = c.post(url, {"send": "1", "text": "做过五年数控车床", "experience_years": "5", "message": "下周可到岗"})
    assert r.status_code == 303
    app = Application.objects.get()
    assert r["Location"] == reverse("jobs:application_detail", args=[app.pk]) + "?slip=1"
    assert app.cv["text"] == "做过五年数控车床" and app.cv["experience_years"] == 5 and app.message == "下周可到岗"
    slip = c.get(r["Location"]).content.decode()
    assert 'data-testid="slip-number">JY20261201-0001<' in slip and "求职申请单" in slip
    again = c.post(url, {"send": "1"})
    assert again.status_code == 409 and "JY20261201-0001" in again.content.decode()
    page = c.get(url).content.decode()
    assert 'data-testid="already"' in page
    bad = c.post(
        reverse("jobs:apply", args=[make_posting(jobs.employer, "铣工", ["6-18-01-01"]).pk]),
        {"send": "1", "experience_years": "-3", "text": "我的经历"},
    )
    assert bad.status_code == 400 and "我的经历" in bad.content.decode()
    assert Application.objects.count() == 1


def test_expired_posting_page_says_so(jobs: Any, client_for: Any) -> None:
    Posting.objects.filter(pk=jobs.posting.pk).update(closes_on=NOW.date() - timedelta(days=1))
    c = client_for(jobs.employer_user)  # the employer still sees its expired posting
    assert 'data-testid="not-live"' in c.get(reverse("jobs:apply", args=[jobs.posting.pk])).content.decode()
    assert client_for(jobs.seeker_user).get(reverse("jobs:apply", args=[jobs.posting.pk])).status_code == 404


def test_seeker_answers_an_invitation_on_my_applications(jobs: Any, client_for: Any) -> None:
    invited = svc.invite(jobs.employer_user, jobs.posting, jobs.seeker, "诚邀面试")
    c = client_for(jobs.seeker_user)
    page = c.get(reverse("jobs:application_mine")).content.decode()
    assert 'data-testid="invite-band"' in page and "诚邀面试" in page and f"accept-{invited.pk}" in page
    r = c.post(reverse("jobs:application_act", args=[invited.pk]), {"do": "accept", "next": "mine"})
    assert r.status_code == 303 and r["Location"] == reverse("jobs:application_mine")
    invited.refresh_from_db()
    assert invited.status == "applied" and invited.contact_released_at is not None
    r = c.post(reverse("jobs:application_act", args=[invited.pk]), {"do": "accept"})
    assert r.status_code == 409 and "已申请" in r.content.decode()  # the double submit, named
    r = c.post(reverse("jobs:application_act", args=[invited.pk]), {"do": "withdraw", "next": "mine"})
    assert r.status_code == 303
    invited.refresh_from_db()
    assert invited.status == "withdrawn"
    assert "withdrawn" in c.get(reverse("jobs:application_mine") + "?status=withdrawn").content.decode()
    assert c.get(reverse("jobs:application_mine") + "?status=bogus&page=x").status_code == 200


def test_no_profile_yet(jobs: Any, client_for: Any) -> None:
    c = client_for(f.UserFactory(username="newcomer"))
    assert 'data-testid="no-profile"' in c.get(reverse("jobs:application_mine")).content.decode()
    r = c.post(reverse("jobs:apply", args=[jobs.posting.pk]), {"send": "1"})
    assert r.status_code == 200 and 'data-testid="no-profile"' in r.content.decode()
    assert not Application.objects.exists()


def test_employer_works_the_applicants(jobs: Any, client_for: Any) -> None:
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    invited = svc.invite(jobs.employer_user, jobs.posting, make_hidden_findable(jobs))
    c = client_for(jobs.employer_user)
    url = reverse("jobs:posting_applicants", args=[jobs.posting.pk])
    page = c.get(url).content.decode()
    assert "137****7000" in page and "13700137000" not in page
    assert f"show-phone-{app.pk}" in page and f"show-phone-{invited.pk}" not in page  # not released yet
    assert page.index(f'id="app-{app.pk}"') < page.index(f'id="app-{invited.pk}"')  # applied before invited
    r = c.post(reverse("jobs:application_act", args=[app.pk]), {"do": "contact"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "13700137000" in r.content.decode() and "<html" not in r.content.decode()
    assert AccessLog.objects.filter(user=jobs.employer_user, what="reveal_phone").count() == 1
    r = c.post(reverse("jobs:application_act", args=[invited.pk]), {"do": "contact"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 403 and "13700137000" not in r.content.decode()
    act = reverse("jobs:application_act", args=[app.pk])
    r = c.post(act, {"do": "interview", "at": "2026-12-03T09:30", "note": "北门", "next": "applicants"})
    assert r.status_code == 303 and r["Location"] == url + f"#app-{app.pk}"
    app.refresh_from_db()
    assert app.status == "interview" and app.interview_at == datetime(2026, 12, 3, 1, 30, tzinfo=UTC)
    r = c.post(act, {"do": "interview", "at": "2026-12-03T09:30"})
    assert r.status_code == 409 and "2026-12-03 09:30" in r.content.decode()
    assert c.post(act, {"do": "interview", "at": "not a time"}).status_code == 400
    assert c.post(act, {"do": "hire", "started_on": "12/08/2026"}).status_code == 400
    r = c.post(act, {"do": "hire", "started_on": "2026-12-08"})
    assert r.status_code == 303
    placement = Placement.objects.get()
    assert placement.application_id == app.pk and str(placement.started_on) == "2026-12-08"
    assert c.post(act, {"do": "hire", "started_on": "2026-12-08"}).status_code == 409
    detail = c.get(reverse("jobs:application_detail", args=[app.pk])).content.decode()
    assert 'data-testid="started-on">2026-12-08<' in detail and 'data-kind="hire"' in detail
    r = c.post(reverse("jobs:application_act", args=[invited.pk]), {"do": "decline", "note": "已招满"})
    assert r.status_code == 303
    invited.refresh_from_db()
    assert invited.status == "declined"
    # the employment service sees the list read-only: no step forms, no phone button
    staff = client_for(jobs.officer).get(url).content.decode()
    assert 'data-testid="read-only"' in staff and "choose-hire" not in staff and "show-phone" not in staff


def make_hidden_findable(jobs: Any) -> Any:
    jobs.hidden.discoverable = True
    jobs.hidden.save(update_fields=["discoverable"])
    return jobs.hidden


def test_pages_in_english(jobs: Any, client_for: Any) -> None:
    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting)
    c = client_for(jobs.employer_user)
    c.cookies["django_language"] = "en"
    page = c.get(reverse("jobs:posting_applicants", args=[jobs.posting.pk])).content.decode()
    assert "Applicants" in page and "Arrange an interview" in page
    page = c.get(reverse("jobs:application_detail", args=[app.pk])).content.decode()
    assert "What you can do now" in page and "History" in page


@pytest.mark.parametrize("english", [False, True])
def test_application_pages_speak_one_language(jobs: Any, client_for: Any, english: bool) -> None:
    """Every application page, in every state a side sees, in Chinese and in English: no word of the
    other language (tests/core/test_one_language.py's check, on this app's pages)."""
    from tests.core.test_one_language import stored_texts, strays

    app = svc.apply(jobs.seeker_user, jobs.seeker, jobs.posting, message="下周可到岗")
    svc.interview(jobs.employer_user, app, NOW + timedelta(days=1), "北门")
    invited = svc.invite(jobs.employer_user, make_posting(jobs.employer, "铣工", ["6-18-01-01"]), jobs.seeker)
    pages = {
        jobs.seeker_user: [
            reverse("jobs:apply", args=[jobs.posting.pk]),
            reverse("jobs:apply", args=[make_posting(jobs.employer, "钳工", ["6-18-01-01"]).pk]),
            reverse("jobs:application_mine"),
            reverse("jobs:application_detail", args=[app.pk]) + "?slip=1",
            reverse("jobs:application_detail", args=[invited.pk]),
        ],
        jobs.employer_user: [
            reverse("jobs:posting_applicants", args=[jobs.posting.pk]),
            reverse("jobs:application_detail", args=[app.pk]),
            reverse("jobs:application_detail", args=[invited.pk]),
        ],
        jobs.officer: [
            reverse("jobs:posting_applicants", args=[jobs.posting.pk]),
            reverse("jobs:application_detail", args=[app.pk]),
        ],
        f.UserFactory(username="newcomer"): [
            reverse("jobs:apply", args=[jobs.posting.pk]),
            reverse("jobs:application_mine"),
        ],
    }
    data, cache, found = stored_texts(english), {}, []
    for user, urls in pages.items():
        c = client_for(user)
        if english:
            c.cookies["django_language"] = "en"
        for url in urls:
            r = c.get(url)
            assert r.status_code == 200, (user, url, r.status_code)
            found += [f"{user} {url}: {w}" for w in strays(r.content.decode(), english, data, cache)]
        r = c.post(reverse("jobs:application_act", args=[app.pk]), {"do": "bogus"})  # an error, in one language
        found += [f"{user} act: {w}" for w in strays(r.content.decode(), english, data, cache)]
    assert not found, "\n".join(found)
