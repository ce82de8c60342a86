"""Roles and what each may do (pure Python, no Django): configuration, not code branches.

A role is always held *at a place* (district, street, community, compound, building, grid or
dwelling) and covers everything below it. Which actions a role allows is this one table; where a
role may be held is the second. ``linli.accounts.permissions`` is the only code that reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    VIEW = "view"  # place structure, names, counts, maps: no personal data
    VIEW_PEOPLE = "view_people"  # rosters of owners and residents, masked
    REVEAL = "reveal"  # a full ID number or phone, one at a time, logged with a reason
    EDIT = "edit"  # change place data, import rosters
    EXPORT = "export"  # download lists as .xlsx (personal data masked)
    MANAGE_ROLES = "manage_roles"  # grant and revoke roles below one's own place
    VISIT = "visit"  # log home visits and needs-survey answers of households
    CONSULT = "consult"  # run renovation projects, surveys, ballots and notices; enter paper and proxy
    #                      votes; see who voted how (rules.md §1: only community staff)
    # VOTE: cast one's own vote online *as a verified owner*: the ballot service counts the vote for
    # the owner whose voting account (accounts.OwnerAccount, linli/accounts/verification.py) the
    # user is, and for nobody else. Holding VOTE through a grant gives no vote by itself (issue 8):
    # a ``resident`` grant only lets the account reach its dwelling's ballots. A personal right,
    # never power over others; nobody can grant it to anyone as a vote.
    VOTE = "vote"
    # Grid events and their closed loop (open311.md, rules.md §4):
    EVENTS = "events"  # see grid events in scope, with the reporter's contact (the handling chain only)
    REPORT = "report"  # collect an event on the ground (信息收集) and verify one on site (核查)
    HANDLE = "handle"  # a department's work on events dispatched to it: accept, handle, report back
    COMMAND = "command"  # the command centre: register, dispatch, close, evaluate, approve, escalate
    # 就近帮 nearby employment (issue 14, docs/jobs.md):
    JOBS = "jobs"  # the employment service: verify employers, see seekers (masked), placements, targets,
    #               key-enterprise requests; register seekers at the service desk
    # SEEK and HIRE are never granted: a job seeker holds SEEK on their own profile and applications,
    # an employer's members hold HIRE on its postings, talent search and invitations, through the
    # model's ``Scope.owner`` (linli.accounts.permissions), not through a role.
    SEEK = "seek"
    HIRE = "hire"


# Actions that concern the holder only: they do not make a role "stronger" when granting (VOTE
# creates no voting right: only owner verification does).
PERSONAL = frozenset({Action.VOTE, Action.SEEK, Action.HIRE})


class Role(StrEnum):
    DISTRICT_ADMIN = "district_admin"
    STREET_COMMAND = "street_command"
    COMMUNITY_WORKER = "community_worker"
    GRID_LEADER = "grid_leader"
    GRID_FULLTIME = "grid_fulltime"
    GRID_PARTTIME = "grid_parttime"
    GRID_INSTRUCTOR = "grid_instructor"
    GRID_FORCE = "grid_force"
    DEPARTMENT_STAFF = "department_staff"
    RESIDENT = "resident"
    OPERATOR = "operator"
    EMPLOYMENT_OFFICER = "employment_officer"


@dataclass(frozen=True)
class RoleSpec:
    zh: str
    en: str
    actions: frozenset[Action]
    # Place kinds the role may be held at.
    at: frozenset[str]
    # 0 = district administration … 3 = the front line; one grants only roles of a higher rank.
    rank: int = 3
    # Where the actions differ by the kind of place the role is held at: {place kind: actions}.
    at_actions: tuple[tuple[str, frozenset[Action]], ...] = ()

    def all_actions(self) -> frozenset[Action]:
        out = self.actions
        for _kind, actions in self.at_actions:
            out |= actions
        return out

    def actions_at(self, place_kind: str | None) -> frozenset[Action]:
        for kind, actions in self.at_actions:
            if kind == place_kind:
                return actions
        return self.actions


A = Action
_ALL = frozenset(Action) - {Action.SEEK, Action.HIRE}
_ADMIN_PLACES = frozenset({"district", "street", "community", "compound", "building"})
_GRID_WORK = frozenset({A.EVENTS, A.REPORT})

ROLES: dict[Role, RoleSpec] = {
    Role.DISTRICT_ADMIN: RoleSpec("区级管理员(住建委)", "District administrator", _ALL, frozenset({"district"}), 0),
    Role.STREET_COMMAND: RoleSpec(
        "街道指挥中心",
        "Street command centre",
        frozenset(
            {
                A.VIEW,
                A.VIEW_PEOPLE,
                A.REVEAL,
                A.EXPORT,
                A.MANAGE_ROLES,
                A.VISIT,
                A.CONSULT,
                A.EVENTS,
                A.REPORT,
                A.COMMAND,
                A.JOBS,
            }
        ),
        frozenset({"street"}),
        1,
    ),
    Role.COMMUNITY_WORKER: RoleSpec(
        "社区工作者",
        "Community worker",
        frozenset(
            {A.VIEW, A.VIEW_PEOPLE, A.REVEAL, A.EDIT, A.EXPORT, A.MANAGE_ROLES, A.VISIT, A.CONSULT, A.JOBS} | _GRID_WORK
        ),
        frozenset({"community", "compound"}),
        2,
    ),
    Role.GRID_LEADER: RoleSpec(
        "网格长",
        "Grid leader",
        frozenset({A.VIEW, A.VIEW_PEOPLE, A.REVEAL, A.EXPORT, A.VISIT} | _GRID_WORK),
        frozenset({"grid"}),
    ),
    Role.GRID_FULLTIME: RoleSpec(
        "专职网格员",
        "Full-time grid worker",
        frozenset({A.VIEW, A.VIEW_PEOPLE, A.REVEAL, A.VISIT} | _GRID_WORK),
        frozenset({"grid"}),
    ),
    Role.GRID_PARTTIME: RoleSpec(
        "兼职网格员",
        "Part-time grid worker",
        frozenset({A.VIEW, A.VIEW_PEOPLE, A.VISIT} | _GRID_WORK),
        frozenset({"grid"}),
    ),
    Role.GRID_INSTRUCTOR: RoleSpec(
        "网格指导员", "Grid instructor", frozenset({A.VIEW, A.VIEW_PEOPLE, A.VISIT} | _GRID_WORK), frozenset({"grid"})
    ),
    # Volunteers (party members, shopkeepers, couriers …) see the grid, never the roster; they may
    # report a problem they see, but not read other people's reports.
    Role.GRID_FORCE: RoleSpec(
        "N力量(志愿者)", "N force (volunteer)", frozenset({A.VIEW, A.REPORT}), frozenset({"grid"})
    ),
    # Held at a district or street: sees places (no people). Held at a department (a functional
    # department, a utility or a street's locality office): also works the events dispatched to that
    # department and sees nothing else of the event stream ("部门报到", issue 4 §5).
    Role.DEPARTMENT_STAFF: RoleSpec(
        "部门工作人员",
        "Department staff",
        frozenset({A.VIEW}),
        frozenset({"district", "street", "department"}),
        at_actions=(("department", frozenset({A.VIEW, A.EVENTS, A.HANDLE})),),
    ),
    # "See my dwelling": its place, its people (masked) and its ballots. Voting online needs more
    # than this grant: the account must be the verified voting account of the owner on the roll
    # (accounts.OwnerAccount). A verified owner's account also holds this role, implied, at each
    # of the owner's dwellings (permissions.grants_of).
    Role.RESIDENT: RoleSpec(
        "居民/业主", "Resident / owner", frozenset({A.VIEW, A.VIEW_PEOPLE, A.VOTE}), frozenset({"dwelling"})
    ),
    Role.OPERATOR: RoleSpec("市场主体(运营方)", "Market operator", frozenset({A.VIEW}), _ADMIN_PLACES),
    # The street's or district's employment service (人社服务专员): verifies employers, works the
    # key enterprises' requests, enters employment figures; sees places, not rosters.
    Role.EMPLOYMENT_OFFICER: RoleSpec(
        "就业服务专员",
        "Employment officer",
        frozenset({A.VIEW, A.JOBS}),
        frozenset({"district", "street", "community"}),
    ),
}


def allows(role: str, action: str, place_kind: str | None = None) -> bool:
    """Whether ``role`` (held at a place of ``place_kind``; None = anywhere) allows ``action``."""
    spec = ROLES.get(Role(role)) if role in Role._value2member_map_ else None
    return spec is not None and Action(action) in spec.actions_at(place_kind)


def may_be_held_at(role: str, place_kind: str) -> bool:
    return role in Role._value2member_map_ and place_kind in ROLES[Role(role)].at


def grantable_by(granter_roles: set[str]) -> set[Role]:
    """Roles a person holding ``granter_roles`` (with MANAGE_ROLES) may hand out below them:
    never one with more actions than they hold themselves, never one of their own rank or above.
    ``granter_roles`` are the roles that cover the place of the grant (``services.grant_role``), not
    every role the person holds elsewhere. Nobody grants anything to themselves (``grant_role``).
    The matrix of every granter × role × place kind × self/other is
    ``tests/accounts/test_grant_matrix.py``."""
    held: set[Action] = set()
    rank = 99
    for r in granter_roles:
        if r in Role._value2member_map_ and Action.MANAGE_ROLES in ROLES[Role(r)].actions:
            held |= ROLES[Role(r)].actions
            rank = min(rank, ROLES[Role(r)].rank)
    if not held:
        return set()
    return {role for role, spec in ROLES.items() if spec.all_actions() - PERSONAL <= held and spec.rank > rank}
