"""Pages of seekers (issue 14 §1; docs/jobs.md "Seekers"): my profile (``seeker_me``: register
online or edit), the employment service's masked list (``seeker_list``), the desk registration
(``seeker_new``), a seeker's page for the service (``seeker_detail``, with its desk record form) and
the logged reveal of a full phone or ID number (``seeker_reveal``).

Every value is checked by ``services.seekers`` (bilingual errors, nothing written on a refusal);
these views only read the form and draw the page. Staff pages answer 403 to an account that does
not work for the employment service, and 404 for a seeker outside its places.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core import lang
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.core.net import client_ip
from linli.core.paging import paginate
from linli.jobs.models import Seeker
from linli.jobs.queries import seekers as q
from linli.jobs.services import seekers as svc
from linli.places.models import Community, Street

PER_PAGE = 30

#: The profile fields of the form, as the service names them (text passed on to be checked there).
TEXT_FIELDS = ("name", "birth_year", "education", "experience_years", "experience", "wage_min", "wage_max", "hours")


def _url(name: str, *args: Any) -> str:
    """A link to a page of another part of the app; "" while that page does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _crumbs(*items: tuple[str, str | None]) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = [{"name": _("Jobs"), "url": reverse("jobs:home")}]
    crumbs += [{"name": name, "url": url} for name, url in items]
    return crumbs


def _problems(exc: LinliError) -> list[str]:
    return [lang.pick(p.zh, p.en) for p in exc.problems]


def _km(metres: int | None) -> str:
    return f"{(metres or 0) / 1000:g}"


def _form_of(seeker: Seeker | None) -> dict[str, Any]:
    """The form's values: the seeker's, or the defaults of a new profile."""
    if seeker is None:
        return {
            "name": "",
            "street": "",
            "community": "",
            "lat": "",
            "lon": "",
            "skills": [],
            "phone": "",
            "id_number": "",
            "birth_year": "",
            "education": "",
            "experience_years": "0",
            "experience": "",
            "wage_min": "",
            "wage_max": "",
            "hours": "40",
            "travel_km": "5",
            "status": Seeker.Status.SEEKING.value,
            "discoverable": False,
            "registered_unemployed": False,
            "hard_to_employ": False,
        }
    community = q.community_of(seeker)
    return {
        "name": seeker.name,
        "street": str(seeker.street_id),
        "community": str(community.pk) if community else "",
        "lat": f"{seeker.lat:.6f}",
        "lon": f"{seeker.lon:.6f}",
        "skills": [s.code for s in q.skills_of(seeker)],
        "phone": "",
        "id_number": "",
        "birth_year": seeker.birth_year or "",
        "education": seeker.education,
        "experience_years": seeker.experience_years,
        "experience": seeker.experience,
        "wage_min": seeker.wage_min or "",
        "wage_max": seeker.wage_max or "",
        "hours": seeker.hours or "",
        "travel_km": _km(seeker.travel_m),
        "status": seeker.status,
        "discoverable": seeker.discoverable,
        "registered_unemployed": seeker.registered_unemployed,
        "hard_to_employ": seeker.hard_to_employ,
    }


def _travel_m(text: str) -> Any:
    """The distance field is in km on the page (0.1–50); the service checks metres."""
    text = text.strip().replace(",", ".")
    try:
        return round(float(text) * 1000) if text and len(text) <= 8 else text
    except ValueError:
        return text


def _read(request: HttpRequest, *, staff: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the form as sent, for drawing it again; the fields for the service)."""
    post = request.POST
    form: dict[str, Any] = {name: str(post.get(name, ""))[:2100] for name in TEXT_FIELDS}
    form |= {
        "street": str(post.get("street", ""))[:20],
        "community": str(post.get("community", ""))[:20],
        "lat": str(post.get("lat", ""))[:30],
        "lon": str(post.get("lon", ""))[:30],
        "skills": [str(s)[:20] for s in post.getlist("skills")[:100]],
        "phone": str(post.get("phone", ""))[:30],
        "id_number": str(post.get("id_number", ""))[:30],
        "travel_km": str(post.get("travel_km", ""))[:10],
        "status": str(post.get("status", Seeker.Status.SEEKING))[:12],
        "discoverable": post.get("discoverable") in {"1", "on"},
        "registered_unemployed": post.get("registered_unemployed") in {"1", "on"},
        "hard_to_employ": post.get("hard_to_employ") in {"1", "on"},
    }
    street = Street.objects.select_related("district").filter(pk=as_id(form["street"]) or 0).first()
    community = Community.objects.filter(pk=as_id(form["community"]) or 0).first() if form["community"] else None
    lat, lon = form["lat"], form["lon"]
    if (not lat or not lon) and street is not None:  # no point picked: the street's centre
        centre = q.street_centre(street)
        if centre is not None:
            lat, lon = f"{centre[0]:.6f}", f"{centre[1]:.6f}"
    fields: dict[str, Any] = {name: form[name] for name in TEXT_FIELDS}
    fields |= {
        "street": street,
        "community": community,
        "lat": lat,
        "lon": lon,
        "skills": form["skills"],
        "travel_m": _travel_m(form["travel_km"]),
        "status": form["status"],
        "discoverable": form["discoverable"],
    }
    if staff:
        fields |= {"registered_unemployed": form["registered_unemployed"], "hard_to_employ": form["hard_to_employ"]}
    return form, fields


def _pickers(streets: list[Street]) -> dict[str, Any]:
    centres = q.street_centres()
    return {
        "groups": q.skill_groups(),
        "streets": streets,
        "communities": q.communities([s.pk for s in streets]),
        "centres": {str(k): [round(v[0], 6), round(v[1], 6)] for k, v in centres.items()},
        "educations": Seeker.Education.choices,
        "statuses": Seeker.Status.choices,
        "bounds": {
            "wage_min": svc.WAGE_MIN,
            "wage_max": svc.WAGE_MAX,
            "hours_min": svc.HOURS_MIN,
            "hours_max": svc.HOURS_MAX,
        },
        "geojson": {"type": "FeatureCollection", "features": []},
    }


# --- my profile ---------------------------------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def seeker_me(request: HttpRequest) -> HttpResponse:
    """Register as a seeker (online), or see and edit one's own profile."""
    seeker = q.mine(request.user)
    form = _form_of(seeker)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        form, fields = _read(request, staff=False)
        try:
            if seeker is None:
                street = fields.pop("street")
                seeker = svc.register(
                    request.user,
                    name=fields.pop("name"),
                    street=street,
                    lat=fields.pop("lat"),
                    lon=fields.pop("lon"),
                    skills=fields.pop("skills"),
                    id_number=form["id_number"],
                    phone=form["phone"],
                    source=Seeker.Source.ONLINE,
                    **fields,
                )
                messages.success(request, _("You are registered as a job seeker."))
            else:
                if form["phone"]:
                    fields["phone"] = form["phone"]
                if form["id_number"]:
                    fields["id_number"] = form["id_number"]
                svc.update(request.user, seeker, **fields)
                messages.success(request, _("Your profile was saved."))
            return HttpResponseRedirect(reverse("jobs:seeker_me"), status=303)
        except LinliError as exc:
            errors, status = _problems(exc), exc.status
    ctx = {
        "seeker": seeker,
        "form": form,
        "errors": errors,
        "skills": q.skills_of(seeker) if seeker is not None else [],
        "community": q.community_of(seeker) if seeker is not None else None,
        "links": {
            "nearby": _url("jobs:nearby"),
            "applications": _url("jobs:application_mine"),
        },
        "crumbs": _crumbs((_("My job seeker profile"), None)),
        **_pickers(q.streets()),
    }
    if seeker is not None and seeker.lat is not None:
        ctx["geojson"] = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [seeker.lon, seeker.lat]},
                    "properties": {},
                }
            ],
        }
    return render(request, "jobs/seekers/me.html", ctx, status=status)


# --- the employment service -------------------------------------------------------------------------


def _staff_only(request: HttpRequest) -> None:
    if not q.serves(request.user):
        raise PermissionDenied("not the employment service")


@login_required
@require_GET
def seeker_list(request: HttpRequest) -> HttpResponse:
    """The seekers of the places the account serves: masked, filtered, counted, paged."""
    _staff_only(request)
    f = q.Filters.read(request.GET)
    qs = q.listed(request.user, f)
    page = paginate(request.GET, qs, PER_PAGE, anchor="#seekers-h", label=_("Pages of the seeker list"))
    in_scope = q.in_scope(request.user)
    served = q.streets_served(request.user)
    ctx = {
        "page": page,
        "rows": q.rows(list(page.rows)),
        "filters": f,
        "counts": q.counts(qs),
        "all_counts": q.counts(in_scope),
        "groups": q.skill_groups(),
        "categories": q.categories(),
        "statuses": Seeker.Status.choices,
        "communities": q.communities([s.pk for s in served]),
        "can_register": bool(served),
        "crumbs": _crumbs((_("Job seekers"), None)),
    }
    return render(request, "jobs/seekers/list.html", ctx)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def seeker_new(request: HttpRequest) -> HttpResponse:
    """Register a seeker at the service desk (``jobs`` at the street), optionally a resident."""
    _staff_only(request)
    served = q.streets_served(request.user)
    if not served:
        raise PermissionDenied("no street to register seekers in")
    person = q.person_for_desk(request.user, request.POST.get("person") or request.GET.get("person"))
    form = _form_of(None)
    if person is not None:
        form["name"] = person.name
        form["birth_year"] = person.birth_year or ""
    errors: list[str] = []
    existing: Seeker | None = None
    status = 200
    if request.method == "POST":
        form, fields = _read(request, staff=True)
        try:
            street = fields.pop("street")
            seeker = svc.register(
                request.user,
                name=fields.pop("name"),
                street=street,
                lat=fields.pop("lat"),
                lon=fields.pop("lon"),
                skills=fields.pop("skills"),
                id_number=form["id_number"],
                phone=form["phone"],
                source=Seeker.Source.DESK,
                person=person,
                **fields,
            )
            messages.success(request, _("The job seeker was registered."))
            return HttpResponseRedirect(reverse("jobs:seeker_detail", args=[seeker.pk]), status=303)
        except LinliError as exc:
            errors, status = _problems(exc), exc.status
            if status == 409:
                found = q.by_id_number(form["id_number"])
                existing = (
                    found if found is not None and q.in_scope(request.user).filter(pk=found.pk).exists() else None
                )
        except PermissionDenied:
            errors, status = [_("You do not serve this street: choose one of yours.")], 403
        except Http404:
            errors, status = [_("You do not serve this street: choose one of yours.")], 404
    ctx = {
        "form": form,
        "errors": errors,
        "person": person,
        "existing": existing,
        "crumbs": _crumbs((_("Job seekers"), reverse("jobs:seeker_list")), (_("Register at the desk"), None)),
        **_pickers(served),
    }
    return render(request, "jobs/seekers/new.html", ctx, status=status)


def _detail_ctx(request: HttpRequest, seeker: Seeker) -> dict[str, Any]:
    community = q.community_of(seeker)
    apps = q.applications_of(request.user, seeker)
    return {
        "seeker": seeker,
        "community": community,
        "skills": q.skills_of(seeker),
        "applications": [(a, _url("jobs:application_detail", a.pk)) for a in apps],
        "statuses": Seeker.Status.choices,
        "travel_km": _km(seeker.travel_m),
        "form": {
            "status": seeker.status,
            "registered_unemployed": seeker.registered_unemployed,
            "hard_to_employ": seeker.hard_to_employ,
            "discoverable": seeker.discoverable,
        },
        "errors": [],
        "crumbs": _crumbs((_("Job seekers"), reverse("jobs:seeker_list")), (seeker.name, None)),
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def seeker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A seeker for the employment service (masked), with the desk record: status, the flags the
    street counts, and — for a seeker without an account — their choice to be found."""
    seeker = q.seeker_or_404(request.user, pk)
    if request.method == "POST":
        fields: dict[str, Any] = {
            "status": str(request.POST.get("status", ""))[:12],
            "registered_unemployed": request.POST.get("registered_unemployed") in {"1", "on"},
            "hard_to_employ": request.POST.get("hard_to_employ") in {"1", "on"},
        }
        if seeker.user_id is None:
            fields["discoverable"] = request.POST.get("discoverable") in {"1", "on"}
        try:
            svc.update(request.user, seeker, **fields)
            messages.success(request, _("The record was saved."))
            return HttpResponseRedirect(reverse("jobs:seeker_detail", args=[seeker.pk]), status=303)
        except LinliError as exc:
            ctx = _detail_ctx(request, seeker)
            ctx["errors"] = _problems(exc)
            ctx["form"] = fields | {"discoverable": fields.get("discoverable", seeker.discoverable)}
            return render(request, "jobs/seekers/detail.html", ctx, status=exc.status)
    return render(request, "jobs/seekers/detail.html", _detail_ctx(request, seeker))


@login_required
@never_cache
@require_POST
def seeker_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a seeker's full phone or ID number once, to the employment service, logged with the reason."""
    template = "jobs/seekers/_reveal.html" if getattr(request, "htmx", False) else "jobs/seekers/reveal.html"
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else reverse("jobs:seeker_list")
    field = str(request.POST.get("field", ""))[:20]
    ctx: dict[str, Any] = {"field": field, "back": back}
    try:
        seeker = q.seeker_or_404(request.user, pk)
        ctx["name"] = seeker.name
        value = svc.reveal(
            request.user, seeker, field, str(request.POST.get("reason", ""))[:200], ip=client_ip(request)
        )
        ctx["value"] = value or _("(none recorded)")
        status = 200
    except LinliError as exc:
        ctx["errors"], status = _problems(exc), exc.status
    except Http404:
        ctx["errors"], status = [_("Not found, or not within your scope.")], 404
    except PermissionDenied:
        ctx["errors"], status = [_("Your role does not allow seeing full personal data here.")], 403
    return render(request, template, ctx, status=status)
