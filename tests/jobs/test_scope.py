from linli.accounts.permissions import can, scoped
from linli.accounts.roles import Action
from linli.jobs.models import Posting, Seeker


def test_fixture_and_owner_scope(jobs, world):
    assert can(jobs.seeker_user, Action.SEEK, jobs.seeker)
    assert not can(jobs.seeker_user, Action.SEEK, jobs.hidden)
    assert not can(jobs.employer_user, Action.SEEK, jobs.seeker)
    assert can(jobs.employer_user, Action.HIRE, jobs.posting)
    assert not can(jobs.pending_user, Action.HIRE, jobs.posting)
    assert can(jobs.officer, Action.JOBS, jobs.seeker)
    assert not can(jobs.officer, Action.JOBS, jobs.other_street)
    assert not can(world.users["grid_leader"], Action.JOBS, jobs.seeker)
    assert scoped(jobs.seeker_user, Action.VIEW, Seeker.objects.all()).count() == 1
    assert scoped(jobs.employer_user, Action.VIEW, Posting.objects.all()).count() == 1
