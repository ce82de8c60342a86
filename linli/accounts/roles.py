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
    VOTE = "vote"  # cast one's own vote as a verified owner (a personal right, not power over others)


# Actions that concern the holder only: they do not make a role "stronger" when granting.
PERSONAL = frozenset({Action.VOTE})


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


@dataclass(frozen=True)
class RoleSpec:
    zh: str
    en: str
    actions: frozenset[Action]
    # Place kinds the role may be held at.
    at: frozenset[str]
    # 0 = district administration … 3 = the front line; one grants only roles of a higher rank.
    rank: int = 3


A = Action
_ALL = frozenset(Action)
_ADMIN_PLACES = frozenset({"district", "street", "community", "compound", "building"})

ROLES: dict[Role, RoleSpec] = {
    Role.DISTRICT_ADMIN: RoleSpec("区级管理员(住建委)", "District administrator", _ALL, frozenset({"district"}), 0),
    Role.STREET_COMMAND: RoleSpec(
        "街道指挥中心",
        "Street command centre",
        frozenset({A.VIEW, A.VIEW_PEOPLE, A.REVEAL, A.EXPORT, A.MANAGE_ROLES, A.VISIT, A.CONSULT}),
        frozenset({"street"}),
        1,
    ),
    Role.COMMUNITY_WORKER: RoleSpec(
        "社区工作者",
        "Community worker",
        frozenset({A.VIEW, A.VIEW_PEOPLE, A.REVEAL, A.EDIT, A.EXPORT, A.MANAGE_ROLES, A.VISIT, A.CONSULT}),
        frozenset({"community", "compound"}),
        2,
    ),
    Role.GRID_LEADER: RoleSpec(
        "网格长", "Grid leader", frozenset({A.VIEW, A.VIEW_PEOPLE, A.REVEAL, A.EXPORT, A.VISIT}), frozenset({"grid"})
    ),
    Role.GRID_FULLTIME: RoleSpec(
        "专职网格员",
        "Full-time grid worker",
        frozenset({A.VIEW, A.VIEW_PEOPLE, A.REVEAL, A.VISIT}),
        frozenset({"grid"}),
    ),
    Role.GRID_PARTTIME: RoleSpec(
        "兼职网格员", "Part-time grid worker", frozenset({A.VIEW, A.VIEW_PEOPLE, A.VISIT}), frozenset({"grid"})
    ),
    Role.GRID_INSTRUCTOR: RoleSpec(
        "网格指导员", "Grid instructor", frozenset({A.VIEW, A.VIEW_PEOPLE, A.VISIT}), frozenset({"grid"})
    ),
    # Volunteers (party members, shopkeepers, couriers …) see the grid, never the roster.
    Role.GRID_FORCE: RoleSpec("N力量(志愿者)", "N force (volunteer)", frozenset({A.VIEW}), frozenset({"grid"})),
    Role.DEPARTMENT_STAFF: RoleSpec(
        "部门工作人员", "Department staff", frozenset({A.VIEW}), frozenset({"district", "street"})
    ),
    Role.RESIDENT: RoleSpec(
        "居民/业主", "Resident / owner", frozenset({A.VIEW, A.VIEW_PEOPLE, A.VOTE}), frozenset({"dwelling"})
    ),
    Role.OPERATOR: RoleSpec("市场主体(运营方)", "Market operator", frozenset({A.VIEW}), _ADMIN_PLACES),
}


def allows(role: str, action: str) -> bool:
    spec = ROLES.get(Role(role)) if role in Role._value2member_map_ else None
    return spec is not None and Action(action) in spec.actions


def may_be_held_at(role: str, place_kind: str) -> bool:
    return role in Role._value2member_map_ and place_kind in ROLES[Role(role)].at


def grantable_by(granter_roles: set[str]) -> set[Role]:
    """Roles a person holding ``granter_roles`` (with MANAGE_ROLES) may hand out below them:
    never one with more actions than they hold themselves."""
    held: set[Action] = set()
    rank = 99
    for r in granter_roles:
        if r in Role._value2member_map_ and Action.MANAGE_ROLES in ROLES[Role(r)].actions:
            held |= ROLES[Role(r)].actions
            rank = min(rank, ROLES[Role(r)].rank)
    if not held:
        return set()
    return {role for role, spec in ROLES.items() if spec.actions - PERSONAL <= held and spec.rank > rank}
