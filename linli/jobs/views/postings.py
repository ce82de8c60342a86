"""Pages of postings (issue 14 §2): new and edit (skills picker, wage range, hours, closing date, the
place of work picked on a map), one posting (public to signed-in people while live; its members and
the employment service always), and publish / close / reopen.

Lookups go through ``queries.postings.posting_or_404`` / ``queries.employers.employer_or_404``
(404 outside the scope); the services check ``hire`` (403 inside the scope without it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core import clock
from linli.core.errors import LinliError
from linli.jobs.models import Employer, JobCategory, Posting
from linli.jobs.permissions import HIRE
from linli.jobs.queries import employers as jobs_employers
from linli.jobs.queries import postings as q
from linli.jobs.services import postings as svc
from linli.jobs.services.postings import create as create_posting
from linli.jobs.views.employers import crumbs, point_map, url_or_none

TEXT_FIELDS = (
    "title",
    "description",
    "category",
    "headcount",
    "wage_min",
    "wage_max",
    "hours",
    "address",
    "lat",
    "lon",
    "closes_on",
)


def _read(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: str(post.get(k, ""))[:4000] for k in TEXT_FIELDS}
    data["skills"] = [str(s)[:20] for s in post.getlist("skills")[:50]]
    return data


def _form_of(posting: Posting) -> dict[str, Any]:
    return {
        "title": posting.title,
        "description": posting.description,
        "category": posting.category.code,
        "headcount": str(posting.headcount),
        "wage_min": str(posting.wage_min),
        "wage_max": str(posting.wage_max),
        "hours": str(posting.hours),
        "address": posting.address,
        "lat": f"{posting.lat:.6f}",
        "lon": f"{posting.lon:.6f}",
        "closes_on": posting.closes_on.isoformat(),
        "skills": list(posting.skills.values_list("code", flat=True)),
    }


def _blank(employer: Employer) -> dict[str, Any]:
    return {
        "title": "",
        "description": "",
        "category": "",
        "headcount": "1",
        "wage_min": "",
        "wage_max": "",
        "hours": "40",
        "address": employer.address,
        "lat": f"{employer.lat:.6f}",
        "lon": f"{employer.lon:.6f}",
        "closes_on": (clock.today() + timedelta(days=30)).isoformat(),
        "skills": [],
    }


def _form_ctx(employer: Employer, form: dict[str, Any], posting: Posting | None, errors: list[Any]) -> dict[str, Any]:
    today = clock.today()
    return {
        "employer": employer,
        "posting": posting,
        "form": form,
        "errors": errors,
        "vocabulary": q.vocabulary(),
        "categories": JobCategory.objects.filter(active=True).order_by("order", "code"),
        "max_skills": svc.MAX_SKILLS,
        "max_hours": svc.MAX_HOURS,
        "min_day": (today + timedelta(days=1)).isoformat(),
        "max_day": (today + timedelta(days=svc.MAX_DAYS_OPEN)).isoformat(),
        "verified": employer.status == Employer.Status.VERIFIED,
        "geojson": point_map(employer.lat, employer.lon, employer.name),
        "crumbs": crumbs(
            (employer.name, reverse("jobs:employer_detail", args=[employer.pk])),
            *(
                [(posting.title, reverse("jobs:posting_detail", args=[posting.pk])), (_("Edit"), None)]
                if posting is not None
                else [(_("New posting"), None)]
            ),
        ),
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def posting_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A new posting of the employer (its members): saved as a draft, or published at once when
    the employer is verified and the button says so."""
    employer = jobs_employers.employer_or_404(request.user, pk, HIRE)
    form = _blank(employer)
    if request.method == "POST":
        form = _read(request.POST)
        try:
            posting = create_posting(request.user, employer, **form)
        except LinliError as exc:
            ctx = _form_ctx(employer, form, None, exc.problems)
            return render(request, "jobs/postings/form.html", ctx, status=exc.status)
        text = _("The posting is saved as a draft.")
        if request.POST.get("publish") == "1":
            try:
                svc.publish(request.user, posting)
                text = _("The posting is published: seekers nearby can see it now.")
            except LinliError as exc:
                messages.warning(request, exc.problems[0].text(request.LANGUAGE_CODE))
        messages.success(request, text)
        return HttpResponseRedirect(reverse("jobs:posting_detail", args=[posting.pk]), status=303)
    return render(request, "jobs/postings/form.html", _form_ctx(employer, form, None, []))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def posting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    posting = q.posting_or_404(request.user, pk, HIRE)
    employer = posting.employer
    form = _form_of(posting)
    if request.method == "POST":
        form = _read(request.POST)
        try:
            svc.update(request.user, posting, **form)
        except LinliError as exc:
            ctx = _form_ctx(employer, form, posting, exc.problems)
            return render(request, "jobs/postings/form.html", ctx, status=exc.status)
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(reverse("jobs:posting_detail", args=[posting.pk]), status=303)
    return render(request, "jobs/postings/form.html", _form_ctx(employer, form, posting, []))


def _detail_ctx(request: HttpRequest, posting: Posting) -> dict[str, Any]:
    user = request.user
    who = q.viewer(user, posting)
    seeker = q.seeker_of(user)
    live = q.is_live(posting)
    applied = q.has_applied(seeker, posting)
    distance = q.distance_from_home(seeker, posting)
    employer = posting.employer
    show_employer_link = who["member"] or who["staff"]
    return {
        "posting": posting,
        "employer": employer,
        "employer_url": reverse("jobs:employer_detail", args=[employer.pk]) if show_employer_link else None,
        "skills": q.skills_of(posting),
        "live": live,
        "expired": posting.closes_on < clock.today(),
        "member": who["member"],
        "staff": who["staff"],
        "see_text": bool(who["member"] or who["staff"]),
        "seeker": seeker,
        "distance_km": None if distance is None else round(distance / 1000, 1),
        "applied": applied,
        "applied_url": url_or_none("jobs:application_detail", applied.pk) if applied else None,
        "apply_url": url_or_none("jobs:apply", posting.pk) if (live and seeker and not applied) else None,
        "seeker_new_url": url_or_none("jobs:seeker_me") if (live and seeker is None and not who["member"]) else None,
        "applicants": q.applicant_count(posting) if (who["member"] or who["staff"]) else None,
        "applicants_url": url_or_none("jobs:posting_applicants", posting.pk) if who["member"] else None,
        "talent_url": url_or_none("jobs:talent", posting.pk) if who["member"] and live else None,
        "edit_url": reverse("jobs:posting_edit", args=[posting.pk]) if who["member"] else None,
        "employer_verified": employer.status == Employer.Status.VERIFIED,
        "geojson": point_map(posting.lat, posting.lon, posting.title),
        "crumbs": crumbs(
            *([(employer.name, reverse("jobs:employer_detail", args=[employer.pk]))] if show_employer_link else []),
            (posting.title, None),
        ),
    }


@login_required
@never_cache
@require_GET
def posting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    posting = q.posting_or_404(request.user, pk)
    return render(request, "jobs/postings/detail.html", _detail_ctx(request, posting))


@login_required
@never_cache
@require_POST
def posting_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish, close or reopen (members; staff may close)."""
    posting = q.posting_or_404(request.user, pk)
    action = str(request.POST.get("action", ""))[:20]
    steps = {
        "publish": (svc.publish, _("The posting is published: seekers nearby can see it now.")),
        "close": (svc.close, _("The posting is closed: it takes no more applications.")),
        "reopen": (svc.reopen, _("The posting is open again.")),
    }
    try:
        if action not in steps:
            raise LinliError.one("unknown_action", "未知操作。", "Unknown action.")
        step, text = steps[action]
        step(request.user, posting)
    except LinliError as exc:
        ctx = _detail_ctx(request, posting)
        ctx["errors"] = exc.problems
        return render(request, "jobs/postings/detail.html", ctx, status=exc.status)
    messages.success(request, text)
    return HttpResponseRedirect(reverse("jobs:posting_detail", args=[posting.pk]), status=303)
