"""The kiosk's screens at /kiosk/ (issue 14 §5, docs/jobs.md "The kiosk"): large type, one decision
per screen, Chinese first, for people without a smartphone.

The kiosk has no account: its own session keys (``request.session["kiosk"]``) hold the screen's
language, the last activity and, after the ID number + SMS code, the seeker it acts for. Every
request checks the last activity: after ``LINLI_KIOSK_IDLE_SECONDS`` (60) the session is flushed
and the person is back at the start (``kiosk.js`` does the same in the browser, with a countdown in
the last 10 s). "结束 / finish" flushes it too. Every screen is ``no-store``; nothing is autocompleted.

The kiosk's street (new seekers are registered there) is bound by staff when installing the kiosk
(``bind_street``: signed in with ``jobs`` at that street, ``/kiosk/?street=<id>``, confirmed; a signed
cookie, and the staff member is signed out again), else ``LINLI_KIOSK_STREET``; without either the
person taps their street. Nobody else can make a kiosk claim a street.

The screens read through ``queries.kiosk`` and write through ``services.kiosk``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.permissions import get_or_404
from linli.core import clock, lang
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.jobs.models import Posting, Seeker
from linli.jobs.permissions import SERVE
from linli.jobs.queries import kiosk as q
from linli.jobs.services import kiosk as svc
from linli.places.models import Street

KEY = "kiosk"
STREET_COOKIE = "linli_kiosk_street"
STREET_SALT = "kiosk-street"
LANGS = ("zh-hans", "en")
View = Callable[..., HttpResponse]


# --- the kiosk session ------------------------------------------------------------------------------


def _start(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(reverse("kiosk:home"))


def screen(need: str | None = None) -> Callable[[View], View]:
    """A kiosk screen: the idle check, the screen's language, ``no-store``; ``need`` names the
    session key the screen requires (``"seeker"``, ``"pending"``, ``"id"``) — without it, the start."""

    def deco(view: View) -> View:
        @wraps(view)
        @never_cache
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            now = clock.now().timestamp()
            state = request.session.get(KEY)
            if isinstance(state, dict) and now - float(state.get("at", 0)) > svc.idle_seconds():
                request.session.flush()
                state = None
            fresh = not isinstance(state, dict)
            kiosk: dict[str, Any] = {"lang": LANGS[0]} if fresh else dict(state)  # type: ignore[arg-type]
            if need and not kiosk.get(need):
                if not fresh:
                    _save(request, kiosk, now)
                return _start(request)
            request.kiosk = kiosk  # type: ignore[attr-defined]
            with translation.override(kiosk.get("lang") if kiosk.get("lang") in LANGS else LANGS[0]):
                response = view(request, *args, **kwargs)
                response.headers.setdefault("Content-Language", translation.get_language() or LANGS[0])
            if getattr(request, "kiosk_flushed", False):
                return response
            if not fresh or len(kiosk) > 1 or kiosk.get("lang") != LANGS[0]:
                _save(request, kiosk, now)
            return response

        return wrapper

    return deco


def _save(request: HttpRequest, kiosk: dict[str, Any], now: float) -> None:
    kiosk["at"] = now
    request.session[KEY] = kiosk
    request.session.modified = True


def _k(request: HttpRequest) -> dict[str, Any]:
    kiosk: dict[str, Any] = request.kiosk  # type: ignore[attr-defined]
    return kiosk


def _end(request: HttpRequest) -> None:
    """Nothing of this person remains: the whole session goes (a new key, no data)."""
    request.session.flush()
    request.kiosk_flushed = True  # type: ignore[attr-defined]


def _seeker(request: HttpRequest) -> Seeker | None:
    return q.seeker(_k(request).get("seeker"))


def _errors(exc: LinliError) -> list[str]:
    return [p.text(lang.code()) for p in exc.problems]


def _page(request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    kiosk = _k(request)
    ctx.setdefault("errors", [])
    ctx.update(
        {
            "kiosk_lang": kiosk.get("lang", LANGS[0]),
            "idle_seconds": svc.idle_seconds(),
            "in_session": bool(kiosk.get("seeker") or kiosk.get("pending") or kiosk.get("id")),
            "icons": _icons(),
        }
    )
    return render(request, f"jobs/kiosk/{template}", ctx, status=status)


def _icons() -> str:
    """The URL of the category icons' sprite (the seekers' pages draw it), or "" while it is missing."""
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    return static("jobs/icons.svg") if finders.find("jobs/icons.svg") else ""


def far(metres: int | None) -> str:
    """A distance as a person says it: 800 米, 1.2 公里."""
    if metres is None:
        return ""
    if metres < 1000:
        return _("%(m)d m") % {"m": round(metres, -1) or metres}
    return _("%(km).1f km") % {"km": metres / 1000}


def kiosk_street(request: HttpRequest) -> Street | None:
    """The street this kiosk stands in: the signed cookie staff set (``bind_street``; a forged or
    altered one fails its signature and counts as none), else ``LINLI_KIOSK_STREET``."""
    raw = request.get_signed_cookie(STREET_COOKIE, default=None, salt=STREET_SALT)
    return q.street(as_id(raw) or as_id(getattr(settings, "LINLI_KIOSK_STREET", None)))


# --- start, the kiosk's street, language, finish, keep-alive ----------------------------------------------------


@screen()
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The start screen; with ``street`` (``?street=<id>``, then the confirming POST) staff bind the
    kiosk to its street (``bind_street``)."""
    if request.method == "POST" or "street" in request.GET:
        return bind_street(request)
    return _page(request, "home.html", {"street": kiosk_street(request)})


def bind_street(request: HttpRequest) -> HttpResponse:
    """Staff bind this kiosk to the street it stands in, once, when installing it: signed in with
    ``jobs`` at that street (its employment service, or the district's), they open
    ``/kiosk/?street=<id>`` and confirm. The kiosk keeps a signed cookie naming the street, and the
    staff member is signed out at once (a kiosk is public). Nobody else can make a kiosk claim a
    street: a visitor is sent to sign in first; an account without ``jobs`` there gets a 403 (a 404
    outside everything it sees); a malformed or unknown id is a 400."""
    raw = request.POST.get("street") if request.method == "POST" else request.GET.get("street")
    if not request.user.is_authenticated:
        return redirect_to_login(f"{reverse('kiosk:home')}?street={as_id(raw) or ''}")
    street = q.street(raw)
    if street is None:
        error = lang.pick("没有这个街道。", "No such street.")
        return _page(request, "home.html", {"errors": [error], "street": kiosk_street(request)}, status=400)
    get_or_404(request.user, SERVE, Street, pk=street.pk)  # 404 outside the account's places, 403 without jobs
    if request.method == "GET":
        return _page(request, "bind.html", {"bind": street, "street": kiosk_street(request)})
    logout(request)  # the kiosk must not stay signed in as the staff member (the session goes too)
    request.kiosk_flushed = True  # type: ignore[attr-defined]
    response = HttpResponseRedirect(reverse("kiosk:home"))
    response.set_signed_cookie(
        STREET_COOKIE, str(street.pk), salt=STREET_SALT, max_age=10 * 365 * 24 * 3600, httponly=True,
        samesite="Lax", secure=request.is_secure(),
    )  # fmt: skip
    return response


@screen()
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The language toggle (this person's screens only; the next person starts in Chinese)."""
    chosen = request.POST.get("language", "")
    _k(request)["lang"] = chosen if chosen in LANGS else LANGS[0]
    target = request.POST.get("next", "")
    if not target.startswith("/kiosk/") or "//" in target or "\\" in target:
        target = reverse("kiosk:home")
    return HttpResponseRedirect(target)


@never_cache
@require_POST
def finish(request: HttpRequest) -> HttpResponse:
    """ "结束 / finish" and the idle timeout: the session goes, back to the start."""
    request.session.flush()
    return HttpResponseRedirect(reverse("kiosk:home"))


@never_cache
@require_POST
def alive(request: HttpRequest) -> HttpResponse:
    """The browser says the person is still there (a tap, a key, "继续"): 204, or 410 when the
    session has already ended (the browser then goes back to the start)."""
    state = request.session.get(KEY)
    now = clock.now().timestamp()
    if not isinstance(state, dict) or now - float(state.get("at", 0)) > svc.idle_seconds():
        if state is not None:
            request.session.flush()
        return HttpResponse(status=410)
    _save(request, dict(state), now)
    return HttpResponse(status=204)


# --- sign in: ID number, then the SMS code ------------------------------------------------------------------


@screen()
@require_http_methods(["GET", "POST"])
def id_number(request: HttpRequest) -> HttpResponse:
    """The ID-card number on the on-screen keypad: a known seeker gets a code; an unknown number
    may register here."""
    kiosk = _k(request)
    if request.method == "GET":
        return _page(request, "id.html", {"value": ""})
    typed = request.POST.get("id_number", "")[:40]
    try:
        value = svc.check_id(typed)
    except LinliError as exc:
        return _page(request, "id.html", {"value": typed, "errors": _errors(exc)}, status=exc.status)
    for stale in ("seeker", "pending", "id", "reg", "cv", "phone_masked"):
        kiosk.pop(stale, None)
    seeker = q.find(value)
    if seeker is None:
        kiosk["id"] = svc.seal({"id_number": value})
        return HttpResponseRedirect(reverse("kiosk:unknown"))
    kiosk["pending"] = seeker.pk
    kiosk["phone_masked"] = seeker.phone_masked
    try:
        svc.send_code(seeker)
    except LinliError as exc:
        if exc.problems[0].code != "code_wait":  # a code sent a moment ago still works
            kiosk.pop("pending", None)
            return _page(request, "id.html", {"value": "", "errors": _errors(exc)}, status=exc.status)
    return HttpResponseRedirect(reverse("kiosk:code"))


@screen(need="pending")
@require_http_methods(["GET", "POST"])
def code(request: HttpRequest) -> HttpResponse:
    kiosk = _k(request)
    ctx: dict[str, Any] = {"phone_masked": kiosk.get("phone_masked", ""), "resend_seconds": svc.resend_seconds()}
    if request.method == "GET":
        return _page(request, "code.html", ctx)
    try:
        seeker = svc.confirm(int(kiosk["pending"]), request.POST.get("code", "")[:12])
    except LinliError as exc:
        return _page(request, "code.html", {**ctx, "errors": _errors(exc)}, status=exc.status)
    kiosk.pop("pending", None)
    kiosk.pop("phone_masked", None)
    kiosk["seeker"] = seeker.pk
    return HttpResponseRedirect(reverse("kiosk:categories"))


@screen(need="pending")
@require_POST
def resend(request: HttpRequest) -> HttpResponse:
    kiosk = _k(request)
    seeker = q.seeker(kiosk.get("pending"))
    ctx: dict[str, Any] = {"phone_masked": kiosk.get("phone_masked", ""), "resend_seconds": svc.resend_seconds()}
    if seeker is None:
        return _start(request)
    try:
        svc.send_code(seeker)
    except LinliError as exc:
        return _page(request, "code.html", {**ctx, "errors": _errors(exc)}, status=exc.status)
    return _page(request, "code.html", {**ctx, "sent_again": True})


# --- registration of a new seeker ------------------------------------------------------------------------------


def _reg(request: HttpRequest) -> dict[str, Any]:
    return svc.unseal(_k(request).get("reg", ""))


def _set_reg(request: HttpRequest, reg: dict[str, Any]) -> None:
    _k(request)["reg"] = svc.seal(reg)


def _id_value(request: HttpRequest) -> str:
    return str(svc.unseal(_k(request).get("id", "")).get("id_number", ""))


@screen(need="id")
@require_GET
def unknown(request: HttpRequest) -> HttpResponse:
    """The ID number is not registered: register here (a few screens) or start again."""
    from linli.core.masking import mask_id_number

    return _page(request, "unknown.html", {"id_masked": mask_id_number(_id_value(request))})


@screen(need="id")
@require_http_methods(["GET", "POST"])
def register_name(request: HttpRequest) -> HttpResponse:
    reg = _reg(request)
    if request.method == "GET":
        return _page(request, "register_name.html", {"value": reg.get("name", "")})
    typed = request.POST.get("name", "")[:60]
    try:
        reg["name"] = svc.check_name(typed)
    except LinliError as exc:
        return _page(request, "register_name.html", {"value": typed, "errors": _errors(exc)}, status=exc.status)
    _set_reg(request, reg)
    return HttpResponseRedirect(reverse("kiosk:register_phone"))


@screen(need="id")
@require_http_methods(["GET", "POST"])
def register_phone(request: HttpRequest) -> HttpResponse:
    reg = _reg(request)
    if not reg.get("name"):
        return HttpResponseRedirect(reverse("kiosk:register_name"))
    if request.method == "GET":
        return _page(request, "register_phone.html", {"value": reg.get("phone", "")})
    typed = request.POST.get("phone", "")[:20]
    try:
        phone = svc.check_phone(typed)
        pending = svc.send_registration_code(_id_value(request), phone)
    except LinliError as exc:
        return _page(request, "register_phone.html", {"value": typed, "errors": _errors(exc)}, status=exc.status)
    reg.update({"phone": phone, "code": pending})
    _set_reg(request, reg)
    return HttpResponseRedirect(reverse("kiosk:register_code"))


@screen(need="id")
@require_http_methods(["GET", "POST"])
def register_code(request: HttpRequest) -> HttpResponse:
    reg = _reg(request)
    if not reg.get("phone"):
        return HttpResponseRedirect(reverse("kiosk:register_phone"))
    ctx: dict[str, Any] = {"phone_masked": svc.phone_masked(reg["phone"]), "registering": True}
    if request.method == "GET":
        return _page(request, "code.html", ctx)
    try:
        reg["code"] = svc.check_registration_code(reg.get("code") or {}, request.POST.get("code", "")[:12])
    except svc.WrongCode as exc:
        reg["code"] = exc.pending
        _set_reg(request, reg)
        return _page(request, "code.html", {**ctx, "errors": _errors(exc)}, status=exc.status)
    except LinliError as exc:
        return _page(request, "code.html", {**ctx, "errors": _errors(exc)}, status=exc.status)
    _set_reg(request, reg)
    if kiosk_street(request) is None:
        return HttpResponseRedirect(reverse("kiosk:register_street"))
    return HttpResponseRedirect(reverse("kiosk:register_skills"))


@screen(need="id")
@require_http_methods(["GET", "POST"])
def register_street(request: HttpRequest) -> HttpResponse:
    """Only where staff have not set the kiosk's street: the person picks theirs."""
    reg = _reg(request)
    if not (reg.get("code") or {}).get("verified"):
        return HttpResponseRedirect(reverse("kiosk:register_code"))
    streets = q.streets()
    if request.method == "POST":
        street = q.street(request.POST.get("street"))
        if street is not None:
            reg["street"] = street.pk
            _set_reg(request, reg)
            return HttpResponseRedirect(reverse("kiosk:register_skills"))
        error = lang.pick("请点选您住的街道。", "Tap the street you live in.")
        return _page(request, "register_street.html", {"streets": streets, "errors": [error]}, status=400)
    return _page(request, "register_street.html", {"streets": streets})


@screen(need="id")
@require_http_methods(["GET", "POST"])
def register_skills(request: HttpRequest) -> HttpResponse:
    """What work they can do (skill tiles by category), then the seeker is registered and signed in."""
    kiosk = _k(request)
    reg = _reg(request)
    if not (reg.get("code") or {}).get("verified"):
        return HttpResponseRedirect(reverse("kiosk:register_code"))
    street = kiosk_street(request) or q.street(reg.get("street"))
    if street is None:
        return HttpResponseRedirect(reverse("kiosk:register_street"))
    chosen = request.POST.getlist("skills") if request.method == "POST" else []
    ctx: dict[str, Any] = {"groups": q.skills_by_category(), "chosen": set(chosen), "registering": True}
    if request.method == "GET":
        return _page(request, "skills.html", ctx)
    try:
        seeker = svc.register(
            reg["code"],
            id_number=_id_value(request),
            name=reg.get("name", ""),
            phone=reg.get("phone", ""),
            street=street,
            skills=chosen,
        )
    except LinliError as exc:
        return _page(request, "skills.html", {**ctx, "errors": _errors(exc)}, status=exc.status)
    for done in ("id", "reg"):
        kiosk.pop(done, None)
    kiosk["seeker"] = seeker.pk
    kiosk["new"] = True
    return HttpResponseRedirect(reverse("kiosk:categories"))


# --- jobs -----------------------------------------------------------------------------------------------------


@screen(need="seeker")
@require_GET
def categories(request: HttpRequest) -> HttpResponse:
    seeker = _seeker(request)
    if seeker is None:
        return _start(request)
    return _page(
        request,
        "categories.html",
        {"seeker": seeker, "categories": q.categories(), "new": _k(request).pop("new", False)},
    )


@screen(need="seeker")
@require_GET
def jobs(request: HttpRequest, category: str) -> HttpResponse:
    seeker = _seeker(request)
    cat = q.category(category)
    if seeker is None:
        return _start(request)
    if cat is None:
        return HttpResponseRedirect(reverse("kiosk:categories"))
    rows = [{"p": p, "far": far(d)} for p, d in q.nearby(seeker, cat)]
    return _page(request, "jobs.html", {"category": cat, "rows": rows})


def _job_or_closed(request: HttpRequest, pk: int) -> Posting | HttpResponse:
    posting = q.live(pk)
    if posting is None:
        return _page(request, "closed.html", {"errors": _errors(svc.posting_closed())}, status=410)
    return posting


def _distance(seeker: Seeker, posting: Posting) -> int:
    from linli.core.geo import metres

    return int(metres(seeker.lat, seeker.lon, posting.lat, posting.lon))


@screen(need="seeker")
@require_GET
def job(request: HttpRequest, pk: int) -> HttpResponse:
    seeker = _seeker(request)
    if seeker is None:
        return _start(request)
    posting = _job_or_closed(request, pk)
    if isinstance(posting, HttpResponse):
        return posting
    applied = q.existing(seeker, posting)
    return _page(
        request,
        "job.html",
        {
            "p": posting,
            "far": far(_distance(seeker, posting)),
            "applied": applied,
            "skill_names": q.skill_labels(posting),
        },
    )


# --- the CV from a few taps, the application, the slip ---------------------------------------------------------


def _cv(request: HttpRequest, seeker: Seeker, posting: Posting) -> dict[str, Any]:
    """The CV being made for this posting (starting from the seeker's own skills, years and hours)."""
    kiosk = _k(request)
    cv = kiosk.get("cv")
    if not isinstance(cv, dict) or cv.get("posting") != posting.pk:
        years = next((k for k, v in sorted(svc.YEARS.items(), key=lambda kv: -kv[1]) if seeker.experience_years >= v))
        cv = {
            "posting": posting.pk,
            "skills": q.skill_codes(seeker),
            "years": years if seeker.experience_years else "",
            "hours": seeker.hours if seeker.hours in svc.HOURS else 0,
        }
        kiosk["cv"] = cv
    return cv


def _cv_step(request: HttpRequest, pk: int) -> tuple[Seeker, Posting, dict[str, Any]] | HttpResponse:
    seeker = _seeker(request)
    if seeker is None:
        return _start(request)
    posting = _job_or_closed(request, pk)
    if isinstance(posting, HttpResponse):
        return posting
    return seeker, posting, _cv(request, seeker, posting)


@screen(need="seeker")
@require_http_methods(["GET", "POST"])
def cv_skills(request: HttpRequest, pk: int) -> HttpResponse:
    step = _cv_step(request, pk)
    if isinstance(step, HttpResponse):
        return step
    seeker, posting, cv = step
    if request.method == "POST":
        chosen = request.POST.getlist("skills")
        try:
            cv["skills"] = [s.code for s in svc.check_skills(chosen)]
        except LinliError as exc:
            groups = q.skill_groups(posting, seeker)
            return _page(
                request,
                "skills.html",
                {"groups": groups, "chosen": set(), "p": posting, "errors": _errors(exc)},
                status=exc.status,
            )
        _k(request)["cv"] = cv
        return HttpResponseRedirect(reverse("kiosk:cv_years", args=[posting.pk]))
    return _page(
        request, "skills.html", {"groups": q.skill_groups(posting, seeker), "chosen": set(cv["skills"]), "p": posting}
    )


@dataclass(frozen=True)
class Tap:
    """A screen of the CV answered with one tap on a tile: the form field (the CV's key too), how a
    tapped value is read, the tiles (value, label), the screen's step and question, the screens
    before and after, and what to say when nothing valid came (Chinese, English)."""

    field: str
    read: Callable[[str | None], Any]
    tiles: tuple[tuple[Any, Promise], ...]
    step: Promise
    question: Promise
    back: str
    then: str
    refusal: tuple[str, str]


_YEARS = {
    "0": gettext_lazy("Not yet"),
    "1-3": gettext_lazy("1 to 3 years"),
    "3-10": gettext_lazy("3 to 10 years"),
    "10+": gettext_lazy("More than 10 years"),
}
_HOURS = {
    40: gettext_lazy("Full time, about 40 hours a week"),
    20: gettext_lazy("Part time, about 20 hours a week"),
    10: gettext_lazy("A few hours, about 10 a week"),
}
TAPS = {
    "years": Tap(
        "years",
        lambda raw: raw or "",
        tuple((key, _YEARS[key]) for key in svc.YEARS),
        gettext_lazy("Your CV, 2 of 3"),
        gettext_lazy("How many years have you done this kind of work?"),
        "kiosk:cv_skills",
        "kiosk:cv_hours",
        ("请点选您做这类工作的年数。", "Tap how many years you have done this kind of work."),
    ),
    "hours": Tap(
        "hours",
        as_id,
        tuple((hours, _HOURS[hours]) for hours in svc.HOURS),
        gettext_lazy("Your CV, 3 of 3"),
        gettext_lazy("How long do you want to work?"),
        "kiosk:cv_years",
        "kiosk:cv_send",
        ("请点选您想每周工作多久。", "Tap how long you want to work each week."),
    ),
}


@screen(need="seeker")
@require_http_methods(["GET", "POST"])
def cv_tap(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """The CV's one-tap screens (``TAPS``: years of experience, then hours a week)."""
    tap = TAPS[field]
    step = _cv_step(request, pk)
    if isinstance(step, HttpResponse):
        return step
    _seeker_row, posting, cv = step
    ctx: dict[str, Any] = {"p": posting, "tap": tap, "chosen": cv.get(tap.field)}
    if request.method == "POST":
        value = tap.read(request.POST.get(tap.field))
        if value in {v for v, _label in tap.tiles}:
            cv[tap.field] = value
            _k(request)["cv"] = cv
            return HttpResponseRedirect(reverse(tap.then, args=[posting.pk]))
        return _page(request, "tap.html", {**ctx, "errors": [lang.pick(*tap.refusal)]}, status=400)
    return _page(request, "tap.html", ctx)


@screen(need="seeker")
@require_http_methods(["GET", "POST"])
def cv_send(request: HttpRequest, pk: int) -> HttpResponse:
    """The CV as the employer will see it, and "投递 / send"."""
    step = _cv_step(request, pk)
    if isinstance(step, HttpResponse):
        return step
    seeker, posting, cv = step
    ctx: dict[str, Any] = {"p": posting, "seeker": seeker, "years": cv.get("years", "")}
    try:
        taps = svc.cv_taps(skills=cv.get("skills", []), years=cv.get("years", ""), hours=cv.get("hours", 0))
        made = svc.preview(seeker, taps)
    except LinliError as exc:
        target = {"skills_required": "kiosk:cv_skills", "years_invalid": "kiosk:cv_years"}.get(
            exc.problems[0].code, "kiosk:cv_hours"
        )
        return HttpResponseRedirect(reverse(target, args=[posting.pk]))
    ctx["cv"] = made
    ctx["skill_names"] = [lang.pick(s["name"], s["name_en"]) for s in made["skills"]]
    if request.method == "GET":
        return _page(request, "send.html", ctx)
    try:
        application = svc.apply(seeker, posting.pk, taps)
    except svc.AlreadyApplied as exc:
        return _page(request, "send.html", {**ctx, "errors": _errors(exc), "applied": exc.application}, exc.status)
    except LinliError as exc:
        return _page(request, "send.html", {**ctx, "errors": _errors(exc)}, status=exc.status)
    _k(request).pop("cv", None)
    return HttpResponseRedirect(reverse("kiosk:slip", args=[application.pk]))


@screen(need="seeker")
@require_GET
def slip(request: HttpRequest, pk: int) -> HttpResponse:
    """The application slip: its number, the job, what happens next; print or show."""
    seeker = _seeker(request)
    application = q.slip(seeker.pk, pk) if seeker is not None else None
    if application is None:
        return HttpResponseRedirect(reverse("kiosk:categories"))
    return _page(request, "slip.html", {"a": application, "p": application.posting, "seeker": seeker})
