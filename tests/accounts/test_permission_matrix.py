"""The permission matrix: every API route and every page, with every role, inside and outside
its scope.

The expectations come from an independent oracle written here from the rules in plain terms
("a community worker sees everything of their community", "a grid worker sees their grid's
buildings", …), not from linli.accounts.permissions, so a mistake there shows up as a failure.
Every URL pattern of the project must be covered: a new route without a row here fails
``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from linli.places import models as m

pytestmark = pytest.mark.django_db

PEOPLE_ROLES = {
    "district_admin",
    "street_command",
    "community_worker",
    "grid_leader",
    "grid_fulltime",
    "grid_parttime",
    "grid_instructor",
    "resident",
    "outsider",
}


@dataclass
class Where:
    """Where an object of the world sits."""

    level: int  # 0 district, 1 street, 2 community, 3 compound, 4 building, 5 unit/dwelling/person
    street: str | None = None
    community: str | None = None
    compound: str | None = None
    grid: str | None = None
    dwelling: str | None = None


def where(w: Any, obj: Any) -> Where:
    def names(building: m.Building) -> dict[str, Any]:
        comm = {w.comm_a.pk: "a", w.comm_b.pk: "b", w.comm_c.pk: "c"}[building.community_id]
        return {
            "street": "s1" if comm in "ab" else "s2",
            "community": comm,
            "compound": comm,
            "grid": {w.grid_a.pk: "a", w.grid_b.pk: "b"}.get(building.grid_id or 0),
        }

    if isinstance(obj, m.District):
        return Where(0)
    if isinstance(obj, m.Street):
        return Where(1, street="s1" if obj.pk == w.street1.pk else "s2")
    if isinstance(obj, m.Community):
        c = {w.comm_a.pk: "a", w.comm_b.pk: "b", w.comm_c.pk: "c"}[obj.pk]
        return Where(2, street="s1" if c in "ab" else "s2", community=c)
    if isinstance(obj, m.Grid):
        c = "a" if obj.pk == w.grid_a.pk else "b"
        # a grid sits at community level for place roles, and is the grid itself for grid roles
        return Where(3, street="s1", community=c, grid=c)
    if isinstance(obj, m.Compound):
        c = {w.compound_a.pk: "a", w.compound_b.pk: "b", w.compound_c.pk: "c"}[obj.pk]
        return Where(3, street="s1" if c in "ab" else "s2", community=c, compound=c)
    if isinstance(obj, m.Building):
        return Where(4, **names(obj))
    if isinstance(obj, m.Dwelling | m.Unit):
        b = obj.building
        d = {w.dwelling_a.pk: "a", w.dwelling_b.pk: "b"}.get(obj.pk) if isinstance(obj, m.Dwelling) else None
        return Where(5, dwelling=d, **names(b))
    if isinstance(obj, m.Person):
        d = w.dwelling_a if obj.pk == w.owner_a.pk else w.dwelling_b
        return Where(5, dwelling="a" if d.pk == w.dwelling_a.pk else "b", **names(d.building))
    if isinstance(obj, m.GridMember):
        c = "a" if obj.grid_id == w.grid_a.pk else "b"
        return Where(5, street="s1", community=c, grid=c)
    raise AssertionError(f"no oracle for {type(obj)}")


def visible(role: str, at: Where, people: bool = False) -> bool:
    """May ``role`` (held where the world puts it) see an object at ``at``? The rules, in plain terms."""
    if people and role not in PEOPLE_ROLES:
        return False
    if role == "district_admin":
        return True
    if role in {"street_command", "department_staff"}:
        return at.street == "s1"
    if role == "community_worker":
        return at.community == "a"
    if role == "outsider":
        return at.community == "b"
    if role.startswith("grid_"):
        return at.grid == "a" and at.level >= 3 and (at.level > 3 or at.compound is None)
    if role == "resident":
        return at.dwelling == "a"
    if role == "operator":
        return at.compound == "a"
    raise AssertionError(role)


def roles(world: Any) -> dict[str, Any]:
    return {**world.users, "outsider": world.outsider}


def samples(w: Any) -> dict[type, list[Any]]:
    return {
        m.District: [w.district],
        m.Street: [w.street1, w.street2],
        m.Community: [w.comm_a, w.comm_b, w.comm_c],
        m.Compound: [w.compound_a, w.compound_b, w.compound_c],
        m.Building: [w.building_a, w.building_b, w.building_c],
        m.Unit: [w.dwelling_a.unit, w.dwelling_b.unit],
        m.Dwelling: [w.dwelling_a, w.dwelling_b],
        m.Grid: [w.grid_a, w.grid_b],
        m.Person: [w.owner_a, w.owner_b],
        m.GridMember: [
            m.GridMember.objects.create(grid=w.grid_a, role="leader", name="王网格长"),
            m.GridMember.objects.create(grid=w.grid_b, role="leader", name="赵网格长"),
        ],
    }


# API routes: basename → (model, needs people rights)
API = {
    "district": (m.District, False),
    "street": (m.Street, False),
    "community": (m.Community, False),
    "compound": (m.Compound, False),
    "building": (m.Building, False),
    "unit": (m.Unit, False),
    "dwelling": (m.Dwelling, False),
    "grid": (m.Grid, False),
    "gridmember": (m.GridMember, False),
    "person": (m.Person, True),
}
# API routes checked elsewhere or not object-scoped, with the test that covers them.
API_ELSEWHERE = {
    "project": "tests/renewal/test_permission_matrix.py",
    "project-item": "tests/renewal/test_permission_matrix.py",
    "supervision-report": "tests/renewal/test_permission_matrix.py",
    "catalogue": "tests/renewal/test_permission_matrix.py",
    "notice": "tests/renewal/test_permission_matrix.py",
    "objection": "tests/renewal/test_permission_matrix.py",
    "ballot": "tests/consult/test_ballots_matrix.py::test_ballot_api_matrix",
    "ownership": "list scoping below",
    "resident": "list scoping below",
    "me": "tests/accounts/test_api.py::test_me_lists_own_grants",
    "grant": "tests/accounts/test_api.py (grant/revoke in and out of scope); tests/accounts/test_grant_matrix.py",
    "owner-account": "tests/accounts/test_verification.py::test_owner_account_api_matrix",
    "person-reveal": "tests/accounts/test_api.py::test_people_are_masked_and_reveal_is_logged",
    "import": "tests/places/test_import_pages.py::test_import_preview_matrix (API and pages)",
    "run": "tests/runs/test_views.py::test_run_api_matrix (only the starter, still allowed)",
    "api-root": "lists endpoints only",
    "visit": "tests/consult/test_visits_pages.py::test_visit_matrix",
    "visit-consensus": "tests/consult/test_visits_pages.py::test_visit_matrix",
    "survey": "tests/consult/test_surveys.py::test_survey_matrix",
    "survey-answer": "tests/consult/test_surveys.py::test_survey_matrix",
}


def test_api_detail_matrix(world, client_for):
    objs = samples(world)
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        for basename, (model, people) in API.items():
            for obj in objs[model]:
                expected = 200 if visible(role, where(world, obj), people) else 404
                r = c.get(f"/api/v1/{_prefix(basename)}/{obj.pk}/")
                if r.status_code != expected:
                    failures.append(f"{role} GET {basename} {obj} → {r.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_api_list_matrix(world, client_for):
    objs = samples(world)
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        for basename, (model, people) in API.items():
            seen = {row["id"] for row in c.get(f"/api/v1/{_prefix(basename)}/?limit=500").json()["results"]}
            for obj in objs[model]:
                if (obj.pk in seen) != visible(role, where(world, obj), people):
                    failures.append(f"{role} list {basename}: {obj} {'shown' if obj.pk in seen else 'hidden'}")
        own = {r["id"] for r in c.get("/api/v1/ownerships/?limit=500").json()["results"]}
        for o in m.Ownership.objects.filter(person__in=objs[m.Person]):
            if (o.pk in own) != visible(role, where(world, o.person), True):
                failures.append(f"{role} ownerships: {o}")
    assert not failures, "\n".join(failures)


def _prefix(basename: str) -> str:
    return {"community": "communities", "gridmember": "grid-members", "person": "people"}.get(basename, basename + "s")


# Pages: URL name → (model, needs people rights). Filled in as pages land.
PAGES: dict[str, tuple[type, bool]] = {
    "places:district": (m.District, False),
    "places:street": (m.Street, False),
    "places:community": (m.Community, False),
    "places:community_geojson": (m.Community, False),
    "places:compound": (m.Compound, False),
    "places:building": (m.Building, False),
    "places:grid": (m.Grid, False),
}
PAGES_ELSEWHERE = {
    "runs:list": "tests/runs/test_views.py::test_run_pages_matrix",
    "runs:detail": "tests/runs/test_views.py::test_run_pages_matrix",
    "runs:progress": "tests/runs/test_views.py::test_run_pages_matrix",
    "runs:file": "tests/runs/test_views.py::test_run_pages_matrix",
    "notify:inbox": "tests/notify/test_views.py::test_inbox_pages_matrix",
    "notify:read": "tests/notify/test_views.py::test_inbox_pages_matrix",
    "notify:read_all": "tests/notify/test_views.py::test_inbox_pages_matrix",
    "notify:preferences": "tests/notify/test_views.py::test_inbox_pages_matrix",
    "governance:division": "tests/governance/test_division.py::test_division_page_matrix",
    "governance:division_publish": "tests/governance/test_division.py::test_division_page_matrix",
    "jobs:home": "tests/jobs/test_home_pages.py::test_home_pages_matrix",
    "jobs:seeker_me": "tests/jobs/test_seekers_pages.py::test_seekers_pages_matrix",
    "jobs:seeker_list": "tests/jobs/test_seekers_pages.py::test_seekers_pages_matrix",
    "jobs:seeker_new": "tests/jobs/test_seekers_pages.py::test_seekers_pages_matrix",
    "jobs:seeker_detail": "tests/jobs/test_seekers_pages.py::test_seekers_pages_matrix",
    "jobs:seeker_reveal": "tests/jobs/test_seekers_pages.py::test_seekers_pages_matrix",
    "jobs:employer_register": "tests/jobs/test_employers.py::test_employers_pages_matrix",
    "jobs:employer_list": "tests/jobs/test_employers.py::test_employers_pages_matrix",
    "jobs:employer_detail": "tests/jobs/test_employers.py::test_employers_pages_matrix",
    "jobs:employer_act": "tests/jobs/test_employers.py::test_employers_pages_matrix",
    "jobs:posting_new": "tests/jobs/test_postings.py::test_postings_pages_matrix",
    "jobs:posting_detail": "tests/jobs/test_postings.py::test_postings_pages_matrix",
    "jobs:posting_edit": "tests/jobs/test_postings.py::test_postings_pages_matrix",
    "jobs:posting_act": "tests/jobs/test_postings.py::test_postings_pages_matrix",
    "jobs:apply": "tests/jobs/test_applications_pages.py::test_applications_pages_matrix",
    "jobs:application_mine": "tests/jobs/test_applications_pages.py::test_applications_pages_matrix",
    "jobs:application_detail": "tests/jobs/test_applications_pages.py::test_applications_pages_matrix",
    "jobs:application_act": "tests/jobs/test_applications_pages.py::test_applications_pages_matrix",
    "jobs:posting_applicants": "tests/jobs/test_applications_pages.py::test_applications_pages_matrix",
    "jobs:service_list": "tests/jobs/test_enterprise_pages.py::test_service_pages_matrix",
    "jobs:service_new": "tests/jobs/test_enterprise_pages.py::test_service_pages_matrix",
    "jobs:service_detail": "tests/jobs/test_enterprise_pages.py::test_service_pages_matrix",
    "jobs:service_act": "tests/jobs/test_enterprise_pages.py::test_service_pages_matrix",
    "jobs:service_rate": "tests/jobs/test_enterprise_pages.py::test_service_pages_matrix",
    "jobs:enterprise_list": "tests/jobs/test_enterprise_pages.py::test_service_pages_matrix",
    "jobs:enterprise_set": "tests/jobs/test_enterprise_pages.py::test_service_pages_matrix",
    "jobs:targets": "tests/jobs/test_targets_pages.py::test_targets_pages_matrix",
    "jobs:targets_set": "tests/jobs/test_targets_pages.py::test_targets_pages_matrix",
    "jobs:targets_entry_add": "tests/jobs/test_targets_pages.py::test_targets_pages_matrix",
    "jobs:targets_entry_withdraw": "tests/jobs/test_targets_pages.py::test_targets_pages_matrix",
    "jobs:targets_export": "tests/jobs/test_targets_pages.py::test_targets_pages_matrix",
    "kiosk:home": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:language": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:finish": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:alive": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:id": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:code": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:resend": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:unknown": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:register_name": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:register_phone": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:register_code": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:register_street": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:register_skills": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:categories": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:jobs": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:job": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:cv_skills": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:cv_years": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:cv_hours": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:cv_send": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "kiosk:slip": "tests/jobs/test_kiosk_pages.py::test_kiosk_pages_matrix",
    "jobs:nearby": "tests/jobs/test_nearby_pages.py::test_nearby_pages_matrix",
    "jobs:talent": "tests/jobs/test_talent_pages.py::test_talent_pages_matrix",
    "jobs:invite": "tests/jobs/test_talent_pages.py::test_talent_pages_matrix",
    "sensing:alarm_board": "tests/sensing/test_alarms_pages.py::test_alarm_pages_matrix",
    "sensing:alarm_map": "tests/sensing/test_alarms_pages.py::test_alarm_pages_matrix",
    "sensing:alarm_detail": "tests/sensing/test_alarms_pages.py::test_alarm_pages_matrix",
    "sensing:alarm_act": "tests/sensing/test_alarms_pages.py::test_alarm_pages_matrix",
    "sensing:device_list": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:device_counts": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:device_detail": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:device_token": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:place_devices": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:lift_list": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:lift_detail": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:lift_maintenance": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:device_import": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:device_import_confirm": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "sensing:device_import_preview": "tests/sensing/test_import.py::test_the_preview_is_only_for_its_uploader",
    "sensing:device_import_template": "tests/sensing/test_device_pages.py::test_device_pages_matrix",
    "renewal:project_list": "tests/renewal/test_permission_matrix.py",
    "renewal:project_create": "tests/renewal/test_permission_matrix.py",
    "renewal:catalogue": "tests/renewal/test_permission_matrix.py",
    "renewal:project_detail": "tests/renewal/test_permission_matrix.py",
    "renewal:project_phase": "tests/renewal/test_permission_matrix.py",
    "renewal:item_add": "tests/renewal/test_permission_matrix.py",
    "renewal:item_progress": "tests/renewal/test_permission_matrix.py",
    "renewal:item_edit": "tests/renewal/test_permission_matrix.py",
    "renewal:sample_flat_add": "tests/renewal/test_permission_matrix.py",
    "renewal:open_day_add": "tests/renewal/test_permission_matrix.py",
    "renewal:report_add": "tests/renewal/test_permission_matrix.py",
    "renewal:report_answer": "tests/renewal/test_permission_matrix.py",
    "renewal:photo": "tests/renewal/test_permission_matrix.py",
    "renewal:public_project": "tests/renewal/test_permission_matrix.py",
    "renewal:public_index": "tests/renewal/test_permission_matrix.py",
    "consult:notice_new": "tests/renewal/test_permission_matrix.py",
    "consult:notice_detail": "tests/renewal/test_permission_matrix.py",
    "consult:notice_objection_move": "tests/renewal/test_permission_matrix.py",
    "consult:notice_correct": "tests/renewal/test_permission_matrix.py",
    "consult:notice_public": "tests/renewal/test_permission_matrix.py",
    "consult:notice_object": "tests/renewal/test_permission_matrix.py",
    "consult:notice_pdf": "tests/renewal/test_permission_matrix.py",
    "consult:ballot_mine": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_list": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_new": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_detail": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_vote": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_enter": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_open": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_close": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_withdraw": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_lift": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "consult:ballot_export": "tests/consult/test_ballots_matrix.py::test_ballot_page_matrix",
    "places:home": "no object: shows the user's own grants",
    "workbench:home": "tests/workbench/test_views.py::test_workbench_matrix (each role's lists, scoped)",
    "places:browse": "tests/places/test_pages.py (search results scoped)",
    "accounts:login": "public",
    "accounts:logout": "public",
    "accounts:me": "own grants only",
    "accounts:signin_sms": "public (signing in): tests/accounts/test_sms_signin.py",
    "accounts:signin_sms_code": "public (signing in): tests/accounts/test_sms_signin.py",
    "accounts:password_reset": "public (signed out, by the phone on record): tests/accounts/test_password.py",
    "accounts:password_reset_code": "public (the code proves the phone): tests/accounts/test_password.py",
    "accounts:password_change": "own account only, signed in: tests/accounts/test_password.py",
    "accounts:elder_mode": "public; one's own preference only: tests/accounts/test_elder.py",
    "accounts:owner_verify": "tests/accounts/test_verification.py::test_verification_page_matrix",
    "accounts:owner_verify_code": "tests/accounts/test_verification.py::test_verification_page_matrix",
    "accounts:owner_dwelling": "tests/accounts/test_verification.py::test_verification_page_matrix",
    "accounts:owner_in_person": "tests/accounts/test_verification.py::test_verification_page_matrix",
    "accounts:owner_unlock": "tests/accounts/test_verification.py::test_verification_page_matrix",
    "accounts:owner_revoke": "tests/accounts/test_verification.py::test_verification_page_matrix",
    "set_language": "public",
    "places:reveal": "tests/places/test_pages.py (reveal in scope, 403 without REVEAL, 404 outside)",
    "consult:visit_new": "tests/consult/test_visits_pages.py::test_visit_matrix",
    "consult:visit_project": "tests/consult/test_visits_pages.py::test_visit_matrix",
    "consult:visit_building": "tests/consult/test_visits_pages.py::test_visit_matrix",
    "consult:survey_list": "tests/consult/test_surveys.py::test_survey_matrix",
    "consult:survey_detail": "tests/consult/test_surveys.py::test_survey_matrix",
    "consult:survey_answer": "tests/consult/test_surveys.py::test_survey_matrix",
    "consult:survey_export": "tests/consult/test_surveys.py::test_survey_matrix",
    # -- grid events (governance) --
    "governance:event_list": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    "governance:event_new": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    "governance:event_hotline": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    "governance:event_nearby": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    "governance:event_places": "command centre only, its own scope: "
    "tests/governance/test_places_and_search.py::test_typeahead_is_scoped_to_the_users_command_centre",
    "governance:event_detail": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    "governance:event_act": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    "governance:event_ask": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    "governance:event_decide": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    "governance:event_photo": "tests/governance/test_events_pages.py::test_event_pages_matrix",
    # -- residents take part (issue 12 §9): public map, "me too", following --
    "governance:public_map": "public: tests/governance/test_public_pages.py::test_public_pages_matrix",
    "governance:public_geojson": "public: tests/governance/test_public_pages.py::test_public_pages_matrix",
    "governance:public_event": "public: tests/governance/test_public_pages.py::test_public_pages_matrix",
    "governance:public_support": "tests/governance/test_public_pages.py::test_public_pages_matrix",
    "governance:public_follow": "tests/governance/test_public_pages.py::test_public_pages_matrix",
    "governance:public_following": "own follows only: tests/governance/test_public_pages.py::test_public_pages_matrix",
    "governance:queue_department": "tests/governance/test_queues_pages.py::test_queue_pages_matrix",
    "governance:queue_department_for": "tests/governance/test_queues_pages.py::test_queue_pages_matrix",
    "governance:queue_command": "tests/governance/test_queues_pages.py::test_queue_pages_matrix",
    "governance:queue_act": "tests/governance/test_queues_pages.py::test_queue_pages_matrix",
    "governance:queue_decide": "tests/governance/test_queues_pages.py::test_queue_pages_matrix",
    # -- Open311 --
    "open311:discovery": "public (GeoReport v2): tests/open311/test_api.py::test_discovery_both_formats",
    "open311:services": "public: tests/open311/test_api.py::test_jurisdictions",
    "open311:service_definition": "public: tests/open311/test_api.py::test_service_definition",
    "open311:requests": "POST needs an api_key: tests/open311/test_api.py::test_api_key_refusals_403; "
    "GET public without personal data: ::test_get_requests_fields_and_no_personal_data",
    "open311:request": "public, jurisdiction only: tests/open311/test_api.py::test_jurisdictions",
    "open311:token": "public, jurisdiction only: tests/open311/test_api.py::test_jurisdictions",
    "open311:unknown": "always 404: tests/open311/test_api.py::test_unknown_format_and_resource_404",
    "sensing:telemetry": "no session: a gateway's or device's bearer token: "
    "tests/sensing/test_intake_http.py::test_refusals, ::test_a_token_of_another_district_reaches_none_of_ours",
    # -- command centre (dashboard) --
    "dashboard:index": "tests/dashboard/test_dashboard.py::test_dashboard_matrix",
    "dashboard:map": "tests/dashboard/test_dashboard.py::test_dashboard_matrix",
    "dashboard:export": "tests/dashboard/test_dashboard.py::test_dashboard_matrix",
    "dashboard:part": "tests/dashboard/test_dashboard.py::test_dashboard_matrix",
}


def test_page_matrix(world, client_for):
    from django.urls import reverse

    objs = samples(world)
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        for name, (model, people) in PAGES.items():
            for obj in objs[model]:
                ok = visible(role, where(world, obj), people)
                if name == "places:building" and role == "resident":
                    # a resident opens the building of their own dwelling, seeing only that dwelling
                    ok = obj.pk == world.dwelling_a.building_id
                expected = 200 if ok else 404
                r = c.get(reverse(name, args=[obj.pk]))
                if r.status_code != expected:
                    failures.append(f"{role} {name} {obj} → {r.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


def _walk(resolver: URLResolver, ns: str = "") -> list[str]:
    out = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            out += _walk(p, f"{ns}{p.namespace}:" if p.namespace else ns)
        elif isinstance(p, URLPattern) and p.name:
            out.append(ns + p.name)
    return out


def test_every_route_is_in_the_matrix():
    names = set(_walk(get_resolver()))
    api_names = {n.rsplit("-", 1)[0] for n in names if n.endswith(("-list", "-detail"))}
    missing_api = api_names - set(API) - set(API_ELSEWHERE)
    pages = {n for n in names if ":" in n and not n.startswith("admin:")} | {"set_language"}
    missing_pages = {n for n in pages if n not in PAGES and n not in PAGES_ELSEWHERE and n not in PAGES_EXTRA}
    assert not missing_api, f"API routes without a row in the matrix: {missing_api}"
    assert not missing_pages, f"pages without a row in the matrix: {missing_pages}"


# Pages checked by test_io_matrix below.
PAGES_EXTRA: dict[str, str] = {
    "places:io_import": "test_io_matrix",
    "places:io_export": "test_io_matrix",
    "places:io_template": "test_io_matrix (any signed-in user: an empty template)",
    "places:io_preview": "tests/places/test_import_pages.py::test_import_preview_matrix",
    "places:io_preview_confirm": "tests/places/test_import_pages.py::test_import_preview_matrix",
    "places:io_preview_cancel": "tests/places/test_import_pages.py::test_import_preview_matrix",
    "places:io_preview_resolve": "tests/places/test_import_pages.py::test_import_preview_matrix",
}
EDIT_ROLES = {"district_admin", "community_worker", "outsider"}
EXPORT_ROLES = {"district_admin", "street_command", "community_worker", "grid_leader", "outsider"}


def test_io_matrix(world, client_for):
    """Import needs `edit` on the community, export `export` on the place (and `view_people` for
    residents): outside the scope 404, inside without the right 403."""
    from django.urls import reverse

    objs = samples(world)
    failures = []
    for role, user in roles(world).items():
        c = client_for(user)
        for comm in objs[m.Community]:
            seen = visible(role, where(world, comm))
            expected = 404 if not seen else 200 if role in EDIT_ROLES else 403
            r = c.get(reverse("places:io_import", args=[comm.pk]))
            if r.status_code != expected:
                failures.append(f"{role} import {comm} → {r.status_code}, expected {expected}")
        for kind, model in [
            ("community", m.Community),
            ("building", m.Building),
            ("grid", m.Grid),
            ("street", m.Street),
            ("compound", m.Compound),
            ("district", m.District),
        ]:
            for obj in objs[model]:
                seen = visible(role, where(world, obj))
                for what in ("buildings", "residents"):
                    allowed = role in EXPORT_ROLES and (what != "residents" or role in PEOPLE_ROLES)
                    expected = 404 if not seen else 200 if allowed else 403
                    r = c.get(reverse("places:io_export", args=[kind, obj.pk, what]))
                    if r.status_code != expected:
                        failures.append(f"{role} export {kind} {obj} {what} → {r.status_code}, expected {expected}")
        if c.get(reverse("places:io_template")).status_code != 200:
            failures.append(f"{role} template")
    assert not failures, "\n".join(failures)
