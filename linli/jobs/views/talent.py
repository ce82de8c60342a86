"""An employer's talent search (issue 14 §3, jobs:talent) and its invitations (jobs:invite).

The posting's best findable seekers within a radius of its place of work (5/10/20/30/50 km), by the
posting's skills or by skills the employer picks (the machine-tool plant looking for lathe, milling
and CNC operators within 30 km). Each row shows only what a discoverable seeker agreed to show: the
masked name, skills, years of experience, education, distance, wanted wage and hours — never the
phone, the ID number or where exactly they live. Seekers who keep themselves hidden, or are not
looking for work, never appear. Already invited or applied seekers show their status instead of the
"Invite" button.

Who: the posting's employer's members (``may_hire_for``) and the employment service (``jobs`` on the
posting). Outside every scope 404; a user who sees the posting but is neither, 403. Inviting is the
employer's step (``hire``): ``services.applications.invite`` decides the rest.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.permissions import can, get_or_404
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.core.lang import is_english
from linli.core.masking import mask_name
from linli.jobs.models import Application, Posting
from linli.jobs.permissions import SEE, SERVE, may_hire_for
from linli.jobs.queries import matching as q
from linli.jobs.queries import postings as jobs_postings
from linli.jobs.services import applications as svc

RADII_KM = (5, 10, 20, 30, 50)
DEFAULT_KM = 10
MAX_SKILLS = 20


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the other side of the contract has not landed yet
        return ""


def _posting(request: HttpRequest, pk: int) -> Posting:
    """The posting, if the account may search talent for it: 404 outside every scope, 403 when it
    sees the posting but neither acts for its employer nor serves its place."""
    posting = get_or_404(request.user, SEE, Posting.objects.select_related("employer", "category"), pk=pk)
    if not (may_hire_for(request.user, posting) or can(request.user, SERVE, posting)):
        raise PermissionDenied
    return posting


def _may_invite(request: HttpRequest, posting: Posting) -> bool:
    """Inviting is the employer's own step: its members only (not staff, not superusers)."""
    return may_hire_for(request.user, posting)


def _read(params: Any, posting_skills: frozenset[str], known: set[str]) -> tuple[int, list[str] | None, list[str]]:
    """(radius in km, the chosen skill codes or None for the posting's own, problems)."""
    bad: list[str] = []
    km = DEFAULT_KM
    raw = str(params.get("radius", "")).strip()
    if raw:
        value = as_id(raw)
        if value in RADII_KM:
            km = int(value)
        else:
            bad.append(_("Choose a distance from the list (5, 10, 20, 30 or 50 km)."))
    chosen = [str(c).strip()[:20] for c in params.getlist("skill")][: MAX_SKILLS + 1]
    unknown = [c for c in chosen if c not in known]
    if unknown:
        bad.append(_("Some of the chosen skills do not exist; they were left out."))
    skills = sorted({c for c in chosen if c in known})
    if len(skills) > MAX_SKILLS:
        bad.append(_("Choose at most 20 skills."))
        skills = skills[:MAX_SKILLS]
    if not skills or set(skills) == posting_skills:
        return km, None, bad
    return km, skills, bad


def _query_string(km: int, skills: list[str] | None) -> str:
    pairs: list[tuple[str, str]] = [("radius", str(km))]
    pairs += [("skill", c) for c in skills or []]
    return urlencode(pairs)


def _context(request: HttpRequest, posting: Posting, params: Any) -> tuple[dict[str, Any], list[str]]:
    names = q.skill_names()
    item = q.posting_item(posting)
    km, skills, bad = _read(params, item["skills"], set(names))
    found = q.talent(posting, radius_m=km * 1000, skills=skills)
    query = dict(item, skills=frozenset(skills) if skills is not None else item["skills"])
    statuses = q.statuses_for(posting, [s.pk for s, _m in found])
    seekers_index = q.seekers_index()
    status_labels = dict(Application.Status.choices)
    rows = []
    for seeker, match in found:
        indexed = seekers_index.get(seeker.pk) or q.seeker_item(seeker)
        why = q.explain(indexed, query, match)
        codes = sorted(s.code for s in seeker.skills.all())
        rows.append(
            {
                "id": seeker.pk,
                "name": mask_name(seeker.name),
                "skills": [names[c].label for c in codes if c in names],
                "shared": set(why["shared"]),
                "experience_years": seeker.experience_years,
                "education": seeker.get_education_display() if seeker.education else "",
                "km": why["km"],
                "wage_min": seeker.wage_min,
                "wage_max": seeker.wage_max,
                "hours": seeker.hours,
                "percent": why["percent"],
                "grade": why["grade"],
                "status": statuses.get(seeker.pk, ""),
                "status_label": status_labels.get(statuses.get(seeker.pk, ""), ""),
            }
        )
    by_category: dict[str, dict[str, Any]] = {}
    for skill in names.values():
        if not skill.active and skill.code not in item["skills"]:
            continue
        group = by_category.setdefault(
            skill.category.code, {"label": skill.category.label, "order": skill.category.order, "skills": []}
        )
        group["skills"].append(skill)
    searched = set(skills) if skills is not None else set(item["skills"])
    ctx = {
        "posting": posting,
        "live": jobs_postings.is_live(posting),
        "rows": rows,
        "radii": RADII_KM,
        "km": km,
        "skill_groups": sorted(by_category.values(), key=lambda g: (g["order"], g["label"])),
        "searched": searched,
        "searched_labels": [names[c].label for c in sorted(searched) if c in names],
        "custom_skills": skills is not None,
        "posting_skills": [names[c].label for c in sorted(item["skills"]) if c in names],
        "may_invite": _may_invite(request, posting),
        "query_string": _query_string(km, skills),
        "posting_url": _url("jobs:posting_detail", posting.pk),
        "english": is_english(),
        "crumbs": [
            {"name": _("Jobs"), "url": _url("jobs:home")},
            {"name": posting.title, "url": _url("jobs:posting_detail", posting.pk)},
            {"name": _("Find people"), "url": None},
        ],
    }
    return ctx, bad


@login_required
@never_cache
@require_GET
def talent(request: HttpRequest, pk: int) -> HttpResponse:
    """The posting's best findable seekers near its place of work."""
    posting = _posting(request, pk)
    ctx, bad = _context(request, posting, request.GET)
    for text in bad:
        messages.error(request, text)
    return render(request, "jobs/talent/talent.html", ctx, status=400 if bad else 200)


@login_required
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite one findable seeker to apply for the posting (the employer's step), then back to the
    search it came from."""
    posting = _posting(request, pk)
    if not _may_invite(request, posting):
        raise PermissionDenied
    seeker_id = as_id(request.POST.get("seeker"))
    seeker = q.findable_seekers().filter(pk=seeker_id).first() if seeker_id is not None else None
    if seeker is None:  # not findable is the same as not there: nothing about them is revealed
        raise Http404
    message = str(request.POST.get("message", "")).strip()[:500]
    back = reverse("jobs:talent", args=[posting.pk])
    names = q.skill_names()
    _km, skills, _bad = _read(request.POST, q.posting_item(posting)["skills"], set(names))
    back += "?" + _query_string(_km, skills)
    try:
        svc.invite(request.user, posting, seeker, message)
    except LinliError as exc:
        en = is_english()
        for p in exc.problems:
            messages.error(request, p.en if en else p.zh)
        ctx, _bad = _context(request, posting, request.POST)
        return render(request, "jobs/talent/talent.html", ctx, status=exc.status)
    messages.success(request, _("%(name)s was invited to apply.") % {"name": mask_name(seeker.name)})
    return HttpResponseRedirect(back + f"#seeker-{seeker.pk}", status=303)
