"""Consult's page forms are read by the API's own input serializers (``linli.core.forms``): a value
the API refuses is refused on the page too (with the page's own message), a value the API accepts
is accepted on the page, and the page keeps its messages and status codes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from linli.consult.models import Ballot, Notice, Survey, Visit

pytestmark = pytest.mark.django_db

NOTICE = {"kind": "plan", "title": "改造方案公示", "body": "外墙、助餐。", "days": "15"}


@pytest.mark.parametrize("starts_on", ["2099-02-30", "next monday"])
def test_a_start_date_the_api_refuses_is_refused_on_the_notice_page(world, project, client_for, starts_on):
    """Before, the page took an unreadable start date for today and failed (500) on an impossible one."""
    c = client_for(world.users["community_worker"])
    r = c.post(reverse("consult:notice_new", args=[project.pk]), {**NOTICE, "starts_on": starts_on, "confirm": "1"})
    assert r.status_code == 400 and "开始日期不是有效的日期" in r.content.decode()
    api = c.post(
        "/api/v1/notices/",
        {**NOTICE, "days": 15, "project": project.pk, "starts_on": starts_on},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert not Notice.objects.exists()


def test_the_notice_page_keeps_its_messages_for_the_period(world, project, client_for):
    c = client_for(world.users["community_worker"])
    url = reverse("consult:notice_new", args=[project.pk])
    r = c.post(url, {**NOTICE, "days": "two weeks"})
    assert r.status_code == 400 and "公示期须为天数" in r.content.decode()  # the page's own word
    r = c.post(url, {**NOTICE, "days": "0"})
    assert r.status_code == 400 and "公示期须为 1–" in r.content.decode()  # the service's bounds
    r = c.post(url, {**NOTICE, "days": "", "confirm": "1"})  # empty: the default period
    assert r.status_code == 302 and Notice.objects.get().days == 15


@pytest.mark.parametrize(("sent", "hidden"), [("1", True), ("on", True), ("false", False), ("0", False)])
def test_hide_results_is_read_as_the_api_reads_it(world, client_for, sent, hidden):
    """Before, any value at all (even "false") hid the results."""
    c = client_for(world.users["community_worker"])
    r = c.post(
        reverse("consult:ballot_new", args=[world.compound_a.pk]),
        {"title": "外墙改造", "question": "是否同意?", "matter": "7", "scope_kind": "compound", "hide_results": sent},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Ballot.objects.get().hide_results is hidden


def test_a_closing_time_the_api_refuses_is_the_pages_bad_date(world, client_for):
    c = client_for(world.users["community_worker"])
    form = {"title": "外墙改造", "question": "是否同意?", "matter": "7", "scope_kind": "compound"}
    for closes_at in ("tomorrow", "2099-02-30T10:00"):
        r = c.post(reverse("consult:ballot_new", args=[world.compound_a.pk]), {**form, "closes_at": closes_at})
        assert r.status_code == 400 and "截止时间格式不正确" in r.content.decode()
    assert not Ballot.objects.exists()


def test_a_next_visit_date_the_api_accepts_the_page_accepts(world, project, client_for):
    """Before, the page refused a date the API reads (2099-1-5: not written with ten characters)."""
    c = client_for(world.users["grid_fulltime"])
    url = reverse("consult:visit_new", args=[project.pk]) + f"?dwelling={world.dwelling_a.pk}"
    form = {"dwelling": world.dwelling_a.pk, "attitude": "support"}
    r = c.post(url, {**form, "next_visit_on": "2099-02-30"})
    assert r.status_code == 400 and "下次走访日期格式不对" in r.content.decode()
    r = c.post(url, {**form, "visited_at": "yesterday"})
    assert r.status_code == 400 and "走访时间格式不对" in r.content.decode()
    assert not Visit.objects.exists()
    r = c.post(url, {**form, "next_visit_on": "2099-1-5"})
    assert r.status_code == 303
    assert Visit.objects.get().next_visit_on == dt.date(2099, 1, 5)


def test_the_survey_page_keeps_its_date_messages(world, project, client_for):
    c = client_for(world.users["community_worker"])
    url = reverse("consult:survey_list", args=[project.pk])
    r = c.post(url, {"title": "需求调查", "opens_on": "2099-01-01", "closes_on": ""})
    assert r.status_code == 400 and "请填写开始和截止日期" in r.content.decode()
    r = c.post(url, {"title": "需求调查", "opens_on": "2099-01-01", "closes_on": "2099-02-30"})
    assert r.status_code == 400 and "日期无效" in r.content.decode()  # "A date is not valid."
    assert not Survey.objects.exists()
    r = c.post(url, {"title": "需求调查", "opens_on": "2099-01-01", "closes_on": "2099-01-31"})
    assert r.status_code == 303 and Survey.objects.get().closes_on == dt.date(2099, 1, 31)
