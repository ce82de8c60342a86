from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, password_validation, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts import api, passwords, queries, verification
from linli.accounts.context import ELDER_COOKIE
from linli.accounts.models import AccessLog, OwnerAccount, OwnerCode, User, normalise_phone
from linli.accounts.permissions import can, get_or_404, grants_of
from linli.accounts.roles import Action
from linli.accounts.services import log_access, set_large_text
from linli.core import clock, confirm
from linli.core.errors import LinliError, Problem
from linli.core.forms import check_form
from linli.core.ids import as_id
from linli.core.masking import mask_phone
from linli.core.net import client_ip
from linli.places.models import Dwelling, Person

#: The pages' own messages for a field the API's serializer refuses (the same words the services
#: use for that field), so that a page form says what it always said.
_TEXTS = {
    "dwelling": Problem("dwelling_required", "请先选择房屋。", "Choose the dwelling first."),
    "id_number": Problem("id_required", "请输入身份证号。", "Enter the ID number."),
    "code": Problem("code_format", "请输入短信中的6位数字验证码。", "Enter the 6-digit code from the text message."),
    "person": Problem("person_required", "请选择业主。", "Choose the owner."),
    "reason": Problem(
        "revoke_reason", "撤销在线投票账号须写明理由。", "A written reason is required to revoke a voting account."
    ),
}


@login_required
def me(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/me.html",
        {
            "grants": queries.grants_with_places(request.user),
            "owner_accounts": queries.my_owner_accounts(request.user),
            "crumbs": [{"name": str(request.user)}],
        },
    )


# --- owner verification (issue 8; linli/accounts/verification.py) --------------------------------


def _safe_next(request: HttpRequest, value: str) -> str:
    value = (value or "").strip()
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, require_https=request.is_secure()):
        return value
    return ""


def _dwelling_label(d: Dwelling) -> str:
    return f"{d.building.compound.name} {d.building.name} {d.unit.number}-{d.number}"


def _verify_crumbs(request: HttpRequest, last: str) -> list[dict[str, Any]]:
    return [
        {"name": str(request.user), "url": reverse("accounts:me")},
        {"name": last, "url": None},
    ]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def owner_verify(request: HttpRequest) -> HttpResponse:
    """Self-service, step 1: choose one of one's dwellings, type the ID number; a code is sent to
    the owner's phone on record."""
    data = request.POST if request.method == "POST" else request.GET
    next_url = _safe_next(request, data.get("next", ""))
    dwelling = None
    raw = data.get("dwelling")
    if raw:
        dwelling = get_or_404(
            request.user,
            Action.VIEW,
            Dwelling.objects.select_related("building__compound", "unit"),
            pk=as_id(raw) or 0,
        )
    errors: list[Any] = []
    status = 200
    if request.method == "POST":
        try:
            if dwelling is None:
                raise LinliError.one("dwelling_required", "请先选择房屋。", "Choose the dwelling first.")
            v = check_form(
                api.StartSmsSerializer, {"dwelling": dwelling.pk, "id_number": data.get("id_number", "")}, _TEXTS
            )
            challenge = verification.start_sms(request.user, dwelling, v["id_number"], next_url)
        except LinliError as exc:
            errors, status = exc.problems, exc.status
        else:
            return redirect("accounts:owner_verify_code", challenge.pk)
    own = sorted(
        {g.place_id for g in grants_of(request.user) if g.place_kind == "dwelling"},
    )
    return render(
        request,
        "accounts/owner_verify.html",
        {
            "dwelling": dwelling,
            "dwelling_label": _dwelling_label(dwelling) if dwelling else "",
            "own": [
                {"pk": d.pk, "label": _dwelling_label(d)}
                for d in Dwelling.objects.filter(pk__in=own).select_related("building__compound", "unit")
            ],
            "accounts": queries.my_owner_accounts(request.user),
            "next": next_url,
            "errors": errors,
            "otp_minutes": max(1, verification.otp_seconds() // 60),
            "crumbs": _verify_crumbs(request, _("Verify that you are the owner")),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def owner_verify_code(request: HttpRequest, pk: int) -> HttpResponse:
    """Self-service, step 2: the code from the text message."""
    challenge = OwnerCode.objects.filter(pk=pk, user_id=request.user.pk or 0).select_related("dwelling").first()
    if challenge is None:
        raise Http404("no such code")
    errors: list[Any] = []
    status = 200
    if request.method == "POST":
        try:
            v = check_form(
                api.ConfirmSmsSerializer,
                {"challenge": challenge.pk, "code": (request.POST.get("code") or "").strip()},
                _TEXTS,
            )
            account = verification.confirm_sms(request.user, v["challenge"], v["code"])
        except LinliError as exc:
            errors, status = exc.problems, exc.status
            challenge.refresh_from_db()
        else:
            messages.success(
                request,
                _("Verified: your account is now the voting account of %(name)s. You can vote online.")
                % {"name": account.person.name},
            )
            return redirect(_safe_next(request, challenge.next_url) or reverse("accounts:me"))
    again = (
        reverse("accounts:owner_verify")
        + "?"
        + urlencode({"dwelling": challenge.dwelling_id or "", "next": challenge.next_url})
    )
    return render(
        request,
        "accounts/owner_code.html",
        {
            "challenge": challenge,
            "expired": clock.now() >= challenge.expires_at or challenge.used_at is not None,
            "errors": errors,
            "again": again,
            "crumbs": _verify_crumbs(request, _("Verify that you are the owner")),
        },
        status=status,
    )


def _worker_dwelling(request: HttpRequest, pk: int) -> Dwelling:
    """The dwelling, for a worker's owner-verification page: VIEW to find it (404 otherwise),
    CONSULT or VISIT there to work on it (403 otherwise)."""
    dwelling = get_or_404(
        request.user, Action.VIEW, Dwelling.objects.select_related("building__compound", "unit"), pk=pk
    )
    if not (can(request.user, Action.CONSULT, dwelling) or can(request.user, Action.VISIT, dwelling)):
        raise PermissionDenied("consult or visit needed")
    return dwelling


def _render_owner_dwelling(
    request: HttpRequest, dwelling: Dwelling, errors: list[Any] | None = None, status: int = 200
) -> HttpResponse:
    owners = queries.dwelling_owners(dwelling)
    log_access(request.user, AccessLog.What.VIEW_PEOPLE, dwelling, dwelling.building.path, ip=client_ip(request))
    return render(
        request,
        "accounts/owner_dwelling.html",
        {
            "dwelling": dwelling,
            "dwelling_label": _dwelling_label(dwelling),
            "owners": owners,
            "documents": OwnerAccount.Document.choices,
            "errors": errors or [],
            "form": request.POST if errors else {},
            "crumbs": [
                {"name": _("Home"), "url": reverse("workbench:home")},
                {"name": dwelling.building.name, "url": reverse("places:building", args=[dwelling.building_id])},
                {"name": _("Owner verification"), "url": None},
            ],
        },
        status=status,
    )


@never_cache
@login_required
@require_GET
def owner_dwelling(request: HttpRequest, pk: int) -> HttpResponse:
    """A worker's page for one dwelling's owners: their voting accounts (how and by whom verified),
    verify in person, revoke, unlock SMS."""
    return _render_owner_dwelling(request, _worker_dwelling(request, pk))


@login_required
@require_POST
def owner_in_person(request: HttpRequest, pk: int) -> HttpResponse:
    dwelling = _worker_dwelling(request, pk)
    person = Person.objects.filter(pk=as_id(request.POST.get("person")) or 0).first()
    username = (request.POST.get("username") or "").strip()
    account = User.objects.filter(username=username).first() if username else None
    try:
        if person is None:
            raise LinliError.one("person_required", "请选择业主。", "Choose the owner.")
        if account is None:
            raise LinliError.one("unknown_account", "账号不存在或已停用。", "No such account, or it is disabled.")
        verification.verify_in_person(
            request.user,
            account,
            person,
            dwelling,
            document_kind=request.POST.get("document_kind", ""),
            document_number=request.POST.get("document_number", ""),
            seen=request.POST.get("seen") == "1",
            note=request.POST.get("note", ""),
        )
    except LinliError as exc:
        return _render_owner_dwelling(request, dwelling, exc.problems, exc.status)
    messages.success(
        request,
        _("%(user)s is now the voting account of %(name)s.") % {"user": account, "name": person.name},
    )
    return redirect("accounts:owner_dwelling", dwelling.pk)


@login_required
@require_POST
def owner_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_or_404(request.user, Action.VIEW, OwnerAccount.objects.select_related("user", "person"), pk=pk)
    dwelling_id = as_id(request.POST.get("dwelling")) or row.dwelling_id
    back = reverse("accounts:owner_dwelling", args=[dwelling_id]) if dwelling_id else reverse("accounts:me")
    if not (can(request.user, Action.CONSULT, row) or can(request.user, Action.VISIT, row)):
        raise PermissionDenied("consult or visit needed")
    reason = (request.POST.get("reason") or "").strip()
    if len(reason) >= 2 and row.revoked_at is None and not confirm.confirmed(request):
        return confirm.ask(
            request,
            title=_("Revoke this voting account?"),
            consequences=[
                _("%(user)s will no longer vote online as %(name)s, on any ballot.")
                % {"user": row.user, "name": row.person.name},
                _("Votes it has already cast stay counted: they were the owner's."),
                _("This cannot be undone: the owner must verify again (by SMS or in person) to vote online."),
                _("The revocation is kept on record with your name and the reason."),
            ],
            details=[(_("Reason"), reason)],
            button=_("Yes, revoke the voting account"),
            cancel_url=back,
        )
    try:
        v = check_form(api.RevokeSerializer, {"reason": reason}, _TEXTS)
        verification.revoke(request.user, row, v["reason"])
    except LinliError as exc:
        if dwelling_id:
            dwelling = _worker_dwelling(request, dwelling_id)
            return _render_owner_dwelling(request, dwelling, exc.problems, exc.status)
        raise
    messages.success(request, _("The voting account is revoked."))
    return redirect(back)


@login_required
@require_POST
def owner_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    dwelling = _worker_dwelling(request, pk)
    try:
        v = check_form(
            api.UnlockSerializer, {"person": request.POST.get("person") or "", "dwelling": dwelling.pk}, _TEXTS
        )
        person = queries.person(v["person"])
        if person is None:
            raise LinliError([_TEXTS["person"]], 400)
        verification.unlock_sms(request.user, person, dwelling)
    except LinliError as exc:
        return _render_owner_dwelling(request, dwelling, exc.problems, exc.status)
    messages.success(request, _("SMS verification is unlocked for %(name)s.") % {"name": person.name})
    return redirect("accounts:owner_dwelling", dwelling.pk)


# --- passwords, sign-in by SMS code, 长辈模式 (issue 12; linli/accounts/passwords.py) ---------------

#: The number a code was asked for, kept in the session between the two steps of a flow.
_PHONE_KEY = {"signin": "linli_signin_phone", "reset": "linli_reset_phone"}


def _code_sent_message(request: HttpRequest) -> None:
    messages.info(
        request,
        _(
            "If this number belongs to an account, a code was sent to it by text message. It is valid "
            "for %(minutes)d minutes."
        )
        % {"minutes": max(1, passwords.otp_seconds() // 60)},
    )


def _ask_code(request: HttpRequest, purpose: str, template: str, then: str, extra: dict[str, Any]) -> HttpResponse:
    """Step 1 of a code flow: the phone number; the same answer whether or not it is on record."""
    errors: list[Any] = []
    status = 200
    if request.method == "POST":
        phone = request.POST.get("phone", "")
        try:
            passwords.send_code(purpose, phone, ip=client_ip(request))
        except LinliError as exc:
            errors, status = exc.problems, exc.status
        else:
            request.session[_PHONE_KEY[purpose]] = normalise_phone(phone)
            _code_sent_message(request)
            return redirect(then)
    ctx = {"errors": errors, "phone": request.POST.get("phone", ""), "step": "phone", **extra}
    return render(request, template, ctx, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def signin_sms(request: HttpRequest) -> HttpResponse:
    """Sign in with phone + SMS code, step 1: the number."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    then = reverse("accounts:signin_sms_code") + (f"?{urlencode({'next': next_url})}" if next_url else "")
    return _ask_code(request, "signin", "accounts/signin_sms.html", then, {"next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def signin_sms_code(request: HttpRequest) -> HttpResponse:
    """Sign in with phone + SMS code, step 2: the code (through axes' lockout, like a password)."""
    phone = request.session.get(_PHONE_KEY["signin"], "")
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    if not phone:
        return redirect("accounts:signin_sms")
    errors: list[Any] = []
    status = 200
    if request.method == "POST":
        code = (request.POST.get("code") or "").strip()
        user = authenticate(request, username=passwords.lockout_name(phone), sms_phone=phone, sms_code=code)
        if user is not None:
            login(request, user)
            request.session.pop(_PHONE_KEY["signin"], None)
            passwords.signed_in_by_code(user, ip=client_ip(request))
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        errors, status = [passwords.WRONG], 400  # a lock is answered by axes' middleware (429)
    return render(
        request,
        "accounts/signin_sms.html",
        {"errors": errors, "step": "code", "phone_masked": mask_phone(phone), "next": next_url},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Forgotten password, step 1: the number on record."""
    return _ask_code(request, "reset", "accounts/password_reset.html", reverse("accounts:password_reset_code"), {})


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_code(request: HttpRequest) -> HttpResponse:
    """Forgotten password, step 2: the code and the new password twice."""
    phone = request.session.get(_PHONE_KEY["reset"], "")
    if not phone:
        return redirect("accounts:password_reset")
    errors: list[Any] = []
    status = 200
    if request.method == "POST":
        try:
            passwords.reset_password(
                phone,
                request.POST.get("code", ""),
                request.POST.get("new_password1", ""),
                request.POST.get("new_password2", ""),
                ip=client_ip(request),
            )
        except LinliError as exc:
            errors, status = exc.problems, exc.status
        else:
            request.session.pop(_PHONE_KEY["reset"], None)
            messages.success(request, _("Your password is changed. Sign in with the new password."))
            return redirect("accounts:login")
    return render(
        request,
        "accounts/password_reset.html",
        {
            "errors": errors,
            "step": "code",
            "phone_masked": mask_phone(phone),
            # a refused new password leaves the code valid: kept in the form; a refused code is not
            "code": "" if any(e.code == "code_wrong" for e in errors) else request.POST.get("code", "")[:6],
            "help": password_validation.password_validators_help_texts(),
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's password: the current one and the new one twice; other sessions end."""
    user = request.user
    assert isinstance(user, User), "signed in (login_required)"
    errors: list[Any] = []
    status = 200
    if request.method == "POST":
        try:
            passwords.change_password(
                user,
                request.POST.get("old_password", ""),
                request.POST.get("new_password1", ""),
                request.POST.get("new_password2", ""),
                ip=client_ip(request),
            )
        except LinliError as exc:
            errors, status = exc.problems, exc.status
        else:
            update_session_auth_hash(request, user)  # this session stays; every other one ends
            messages.success(request, _("Your password is changed. Your other sessions are signed out."))
            return redirect("accounts:me")
    return render(
        request,
        "accounts/password_change.html",
        {
            "errors": errors,
            "help": password_validation.password_validators_help_texts(),
            "crumbs": [
                {"name": str(request.user), "url": reverse("accounts:me")},
                {"name": _("Change password"), "url": None},
            ],
        },
        status=status,
    )


@require_POST
def elder_mode(request: HttpRequest) -> HttpResponse:
    """The 长辈模式 switch in every page's header: a plain form (works without JavaScript). Kept on
    the account when signed in, and in a cookie on the device either way."""
    on = request.POST.get("large_text") == "1"
    if request.user.is_authenticated:
        set_large_text(request.user, on)
    response = redirect(_safe_next(request, request.POST.get("next", "")) or reverse("places:home"))
    response.set_cookie(
        ELDER_COOKIE,
        "1" if on else "0",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=request.is_secure(),
    )
    return response
