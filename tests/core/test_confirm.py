"""linli/core/confirm.py: the confirmation step every irreversible action goes through."""

from __future__ import annotations

from django.test import RequestFactory

from linli.core import confirm


def test_only_a_post_with_confirm_1_is_confirmed():
    rf = RequestFactory()
    assert confirm.confirmed(rf.post("/x", {"confirm": "1"}))
    for request in (rf.post("/x"), rf.post("/x", {"confirm": "yes"}), rf.get("/x", {"confirm": "1"})):
        assert not confirm.confirmed(request)


def test_the_confirmation_repeats_the_fields_but_not_the_token_or_confirm():
    request = RequestFactory().post(
        "/x", {"csrfmiddlewaretoken": "t", "confirm": "0", "reason": "理由", "occupied": ["1", "2"]}
    )
    assert confirm.repeated_fields(request) == [("reason", "理由"), ("occupied", "1"), ("occupied", "2")]
    assert confirm.repeated_fields(request, only=["reason"]) == [("reason", "理由")]


def test_the_page_states_the_consequences_and_carries_confirm():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().post("/consult/ballots/1/close/", {"reason": "<b>x</b>"})
    request.user = AnonymousUser()
    response = confirm.ask(
        request,
        title="T?",
        consequences=["结束后结果不可更改"],
        button="Yes",
        cancel_url="/back/",
        details=[("a", "b")],
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="confirm-page"' in html
    assert "结束后结果不可更改" in html and 'href="/back/"' in html and 'action="/consult/ballots/1/close/"' in html
    assert 'name="confirm" value="1"' in html and 'name="reason" value="&lt;b&gt;x&lt;/b&gt;"' in html
