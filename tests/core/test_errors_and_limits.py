from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

from linli.core.errors import LinliError, Problem


def test_problem_text_in_both_languages():
    p = Problem("bad_area", "面积须为数字。", "Area must be a number.", row=7, column="area")
    assert p.text("zh-hans") == "第 7 行「area」:面积须为数字。"
    assert p.text("en") == "Row 7 (area): Area must be a number."
    assert "Row 7" in str(LinliError([p]))


@pytest.mark.django_db
@override_settings(LINLI_MAX_UPLOAD_BYTES=1000)
def test_oversize_body_is_413_with_both_languages(world, client_for):
    c = client_for(world.users["community_worker"])
    r = c.post("/api/v1/grants/", "x" * 2000, content_type="application/json")
    assert r.status_code == 413
    err = r.json()["errors"][0]
    assert err["code"] == "too_large" and "MB" in err["zh"] and "too large" in err["en"]
    r = c.post("/accounts/login/", {"username": "x" * 2000})
    assert r.status_code == 413 and "上传内容过大" in r.content.decode()


@pytest.mark.django_db
def test_csrf_failure_is_a_clear_403(world):
    c = Client(enforce_csrf_checks=True)
    r = c.post("/accounts/login/", {"username": "a", "password": "b"})
    assert r.status_code == 403
    page = r.content.decode()
    assert "刷新页面" in page and "reload the page" not in page  # one language per page
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = c.post("/accounts/login/", {"username": "a", "password": "b"}).content.decode()
    assert "reload the page" in page and "刷新页面" not in page


@pytest.mark.django_db
def test_unknown_api_object_is_404_json(world, client_for):
    r = client_for(world.users["district_admin"]).get("/api/v1/buildings/999999/")
    assert r.status_code == 404 and r.json()["errors"][0]["en"].startswith("Not found")
    r = client_for(world.users["district_admin"]).get("/api/v1/buildings/abc/")
    assert r.status_code == 404
