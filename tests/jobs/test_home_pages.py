"""jobs:home (issue 14): one hub, different for each side — a seeker, an employer's member, the
employment service, and a signed-in person with none of these (the two ways in); the nav link."""

from __future__ import annotations

from django.urls import reverse

from tests import factories as f


def test_home_pages_matrix(jobs, world, client):
    """jobs:home × anonymous (to sign in), every other account 200 (its own hub)."""
    assert client.get(reverse("jobs:home")).status_code == 302
    for user in (f.UserFactory(username="plain"), jobs.seeker_user, jobs.employer_user, jobs.officer, world.admin):
        client.force_login(user)
        assert client.get(reverse("jobs:home")).status_code == 200


def test_each_side_sees_its_hub(jobs, world, client_for):
    def hubs(user):
        page = client_for(user).get(reverse("jobs:home")).content.decode()
        return {
            h
            for h in ("hub-seeker", "hub-employer", "hub-staff", "hub-join", "join-seeker")
            if f'data-testid="{h}"' in page
        }, page

    shown, page = hubs(f.UserFactory(username="plain"))
    assert shown == {"hub-join", "join-seeker"}
    assert 'data-testid="nav-jobs"' in page
    shown, page = hubs(jobs.seeker_user)
    assert "hub-seeker" in shown and "join-seeker" not in shown and "hub-staff" not in shown
    assert reverse("jobs:seeker_me") in page
    shown, page = hubs(jobs.employer_user)
    assert "hub-employer" in shown and "hub-staff" not in shown and "hub-seeker" not in shown
    assert "重庆精工机床有限公司" in page and "待审核商贸有限公司" not in page
    shown, page = hubs(jobs.officer)
    assert "hub-staff" in shown
    # the staff figures: the pending employer of street 1 (not street 2's), both seekers
    assert 'data-testid="hub-seekers"><strong>2</strong>' in page
    assert "<strong>1</strong>" in page
    shown, _page = hubs(jobs.pending_user)
    assert "hub-employer" in shown
