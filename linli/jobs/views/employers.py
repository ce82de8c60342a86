"""Pages of employers (issue 14 §2): registration (the credit code checked as it is typed, and again
by the service), the employer's page (members: postings with applicant counts, members, profile;
staff: verify / reject / suspend, key enterprise and service officer), and the staff queue.

Seeing an employer is ``view`` through ``queries.employers.employer_or_404`` (its members and the
employment service above it; 404 for anyone else); every action is a POST to ``employer_act`` whose
service checks the permission (403 inside the scope without it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.permissions import scope_q
from linli.accounts.services import reveal_contact
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.core.paging import paginate
from linli.jobs.models import Employer, EmployerMember
from linli.jobs.permissions import SERVE
from linli.jobs.queries import employers as q
from linli.jobs.queries import postings as jobs_postings
from linli.jobs.services import employers as svc
from linli.places.geometry import feature, outline
from linli.places.models import District

PER_PAGE = 30
REGISTER_FIELDS = (
    "name",
    "credit_code",
    "industry",
    "size",
    "address",
    "lat",
    "lon",
    "contact_name",
    "contact_phone",
    "description",
)


def url_or_none(name: str, *args: Any) -> str | None:
    """A link to a page another part of the app may not have yet (the URL names are agreed)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def crumbs(*items: tuple[str, str | None]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": _("Home"), "url": reverse("workbench:home")}]
    home = url_or_none("jobs:home")
    if home:
        out.append({"name": _("Jobs nearby"), "url": home})
    return out + [{"name": name, "url": url} for name, url in items]


def _form(post: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {n: str(post.get(n, ""))[:4000] for n in names}


def district_map() -> dict[str, Any]:
    """The districts' outlines (or a square around a centre), to pick a point inside them."""
    features = []
    for d in District.objects.order_by("path"):
        shape = outline(d.boundary, d.lat, d.lon, 3000)
        if shape is not None:
            features.append(feature(shape, name=d.name, kind="street"))
    return {"type": "FeatureCollection", "features": features}


def point_map(lat: float, lon: float, name: str) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [feature({"type": "Point", "coordinates": [lon, lat]}, name=name)],
    }


# --- registration --------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Register an employer: it waits for the street's verification; the account becomes its
    administrator. The code is checked as it is typed (employers.js) and again here."""
    form = dict.fromkeys(REGISTER_FIELDS, "")
    errors: list[Any] = []
    status = 200
    if request.method == "POST":
        form = _form(request.POST, REGISTER_FIELDS)
        try:
            employer = svc.register(request.user, **form)
        except LinliError as exc:
            errors, status = exc.problems, exc.status
        else:
            messages.success(
                request, _("Registered. The street's employment service will verify it; you can prepare postings now.")
            )
            return HttpResponseRedirect(reverse("jobs:employer_detail", args=[employer.pk]), status=303)
    ctx = {
        "form": form,
        "errors": errors,
        "sizes": Employer.Size.choices,
        "mine": q.mine(request.user),
        "geojson": district_map(),
        "crumbs": crumbs((_("Register an employer"), None)),
    }
    return render(request, "jobs/employers/register.html", ctx, status=status)


# --- the staff queue -----------------------------------------------------------------------------


@login_required
@require_GET
def employer_list(request: HttpRequest) -> HttpResponse:
    """Employers the employment service looks after: awaiting verification first; filters."""
    if scope_q(request.user, SERVE, Employer) is None:
        raise PermissionDenied("the employment service's queue")
    f = q.Filters.read(request.GET)
    page = paginate(request.GET, q.staff_queue(request.user, f), PER_PAGE, anchor="#employers-h")
    page = replace(page, rows=[{"e": e, "url": reverse("jobs:employer_detail", args=[e.pk])} for e in page.rows])
    counts = q.status_counts(request.user)
    ctx = {
        "page": page,
        "filters": f,
        "statuses": Employer.Status.choices,
        "pending": counts.get(Employer.Status.PENDING, 0),
        "total": sum(counts.values()),
        "crumbs": crumbs((_("Employers"), None)),
    }
    return render(request, "jobs/employers/list.html", ctx)


# --- one employer --------------------------------------------------------------------------------


def _detail_ctx(request: HttpRequest, employer: Employer) -> dict[str, Any]:
    user = request.user
    member = q.may_hire(user, employer)
    owner = q.is_owner(user, employer) or (bool(getattr(user, "is_superuser", False)) and member)
    staff = q.may_serve(user, employer)
    postings = []
    if member or staff:
        for p in jobs_postings.of_employer(employer):
            postings.append(
                {
                    "p": p,
                    "url": reverse("jobs:posting_detail", args=[p.pk]),
                    "applicants_url": url_or_none("jobs:posting_applicants", p.pk) if member else None,
                }
            )
    return {
        "employer": employer,
        "member": member,
        "owner": owner,
        "staff": staff,
        "members": q.members_of(employer) if (member or staff) else [],
        "roles": EmployerMember.Role.choices,
        "sizes": Employer.Size.choices,
        "postings": postings,
        "officers": q.officers_for(employer) if staff else [],
        "new_posting_url": reverse("jobs:posting_new", args=[employer.pk]) if member else None,
        "service_url": url_or_none("jobs:service_new", employer.pk)
        if member and employer.key_enterprise and employer.status == Employer.Status.VERIFIED
        else None,
        "geojson": point_map(employer.lat, employer.lon, employer.name),
        "contact": None,
        "errors": [],
        "edit": {
            "name": employer.name,
            "credit_code": employer.credit_code,
            "industry": employer.industry,
            "size": employer.size,
            "address": employer.address,
            "contact_name": employer.contact_name,
            "description": employer.description,
        },
        "crumbs": crumbs(
            *([(_("Employers"), reverse("jobs:employer_list"))] if staff else []),
            (employer.name, None),
        ),
    }


@login_required
@never_cache
@require_GET
def employer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    employer = q.employer_or_404(request.user, pk)
    return render(request, "jobs/employers/detail.html", _detail_ctx(request, employer))


def _act(request: HttpRequest, employer: Employer, action: str) -> tuple[str, dict[str, Any] | None]:
    """Run one action; the message to show, and the contact revealed (for "contact")."""
    post = request.POST
    user = request.user
    if action == "verify":
        svc.verify(user, employer)
        return _("The employer is verified: its postings can go live."), None
    if action == "reject":
        svc.reject(user, employer, str(post.get("reason", ""))[:500])
        return _("The registration was rejected; the employer sees the reason."), None
    if action == "suspend":
        svc.suspend(user, employer, str(post.get("reason", ""))[:500])
        return _("The employer is suspended: its postings are no longer shown."), None
    if action == "key":
        officer_id = as_id(post.get("officer"))
        officer = get_user_model().objects.filter(pk=officer_id).first() if officer_id else None
        if officer_id and officer is None:
            raise LinliError.one("bad_officer", "没有这位服务专员。", "No such service officer.")
        svc.set_key_enterprise(user, employer, post.get("key_enterprise") == "1", officer)
        return _("Saved."), None
    if action == "add_member":
        svc.add_member(user, employer, str(post.get("username", "")), str(post.get("role", "")))
        return _("The member was added."), None
    if action == "remove_member":
        member_id = as_id(post.get("member"))
        if member_id is None:
            raise LinliError.one("no_such_member", "没有这个成员。", "No such member.", status=404)
        svc.remove_member(user, employer, member_id)
        return _("The member was removed."), None
    if action == "update":
        fields = {
            k: str(post.get(k, ""))[:4000]
            for k in (
                "name",
                "credit_code",
                "industry",
                "size",
                "address",
                "contact_name",
                "contact_phone",
                "description",
            )
            if k in post
        }
        if not fields.get("contact_phone"):
            fields.pop("contact_phone", None)  # blank keeps the number on file
        svc.update(user, employer, **fields)
        return _("Saved."), None
    if action == "contact":
        contact = reveal_contact(
            user,
            str(SERVE),
            employer,
            phone_enc=employer.contact_phone_enc,
            email_enc="",
            object_type="jobs.employer",
            path=employer.path,
            reason="就业服务联系用人单位 / employment service contacting the employer",
        )
        if contact is None:
            raise PermissionDenied("only the employment service sees the full contact phone")
        return "", contact
    raise LinliError.one("unknown_action", "未知操作。", "Unknown action.")


@login_required
@never_cache
@require_POST
def employer_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff and members act on an employer (the service decides who may)."""
    employer = q.employer_or_404(request.user, pk)
    action = str(request.POST.get("action", ""))[:20]
    try:
        text, contact = _act(request, employer, action)
    except LinliError as exc:
        ctx = _detail_ctx(request, employer)
        ctx["errors"] = exc.problems
        ctx["failed"] = action
        if action == "update":
            ctx["edit"].update({k: str(request.POST.get(k, ""))[:4000] for k in ctx["edit"] if k in request.POST})
        return render(request, "jobs/employers/detail.html", ctx, status=exc.status)
    if contact is not None:
        ctx = _detail_ctx(request, employer)
        ctx["contact"] = contact
        return render(request, "jobs/employers/detail.html", ctx)
    messages.success(request, text)
    return HttpResponseRedirect(reverse("jobs:employer_detail", args=[employer.pk]), status=303)
