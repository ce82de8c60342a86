"""就近帮 nearby employment (issue 14, docs/jobs.md): seekers, employers, postings, applications,
placements, the kiosk's sign-in codes, key-enterprise service requests and employment targets.

Who sees what (``linli.accounts.permissions``, one check): the employment service (``jobs``, held at a
district, street or community) sees the rows under its place's path; a job seeker holds ``seek`` on
their own ``Seeker`` row and an employer's members hold ``hire`` on the employer and its postings,
through ``Scope.owner`` — no role. An application is seen by both sides; which side may take which
step is the seeker's ``seek`` on the seeker and the employer's ``hire`` on the posting
(``jobs.permissions``).

Personal data of seekers (ID number, phone) is encrypted with a keyed hash and a masked copy, like
``places.Person`` (rules.md §6): lists never decrypt; a full read goes through
``accounts.services.reveal_contact`` and is logged.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.accounts.roles import Action
from linli.core import crypto, lang
from linli.core.masking import mask_id_number, mask_phone, normalise_id_number
from linli.core.scope import Scope

# --- the vocabulary: categories (the kiosk's tiles) and skills (coded, editable data) -------------


class JobCategory(models.Model):
    """A kind of work as a person would pick it on the kiosk (制造技工, 餐饮, 家政保洁 …), with an icon.
    Data, edited in the admin; seeded by migration 0002 (``linli/jobs/vocabulary.py``)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    # The name of an icon in linli/jobs/static/jobs/icons/ (an inline SVG symbol), e.g. "wrench".
    icon = models.CharField(_("icon"), max_length=30, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("job category")
        verbose_name_plural = _("job categories")
        ordering: ClassVar = ["order", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return lang.pick(self.name, self.name_en)


class Skill(models.Model):
    """A skill or occupation code, after the national occupation classification (《中华人民共和国职业
    分类大典》2022, codes such as ``6-18-01-01`` 车工); data, edited in the admin."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=80, blank=True)
    category = models.ForeignKey(JobCategory, on_delete=models.PROTECT, related_name="skills")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering: ClassVar = ["category__order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def label(self) -> str:
        return lang.pick(self.name, self.name_en)


# --- seekers -----------------------------------------------------------------------------------------


class Seeker(models.Model):
    """A person looking for work near home: a resident of the place tree (``person``) or anyone who
    registers (online with an account, at the kiosk, or at the service desk).

    ``path`` is the place path of the street (or community) the seeker registered with: the
    employment service of that place sees them. Employers find a seeker only when
    ``discoverable`` (the seeker's own choice, off until they switch it on) and never see contact
    details until the seeker applies or accepts an invitation."""

    class Education(models.TextChoices):
        NONE = "none", pgettext_lazy("education", "No schooling")
        PRIMARY = "primary", pgettext_lazy("education", "Primary school")
        JUNIOR = "junior", pgettext_lazy("education", "Junior secondary")
        SENIOR = "senior", pgettext_lazy("education", "Senior secondary / vocational")
        COLLEGE = "college", pgettext_lazy("education", "College")
        BACHELOR = "bachelor", pgettext_lazy("education", "Bachelor or above")

    class Status(models.TextChoices):
        SEEKING = "seeking", pgettext_lazy("seeker status", "Looking for work")
        EMPLOYED = "employed", pgettext_lazy("seeker status", "Employed")
        PAUSED = "paused", pgettext_lazy("seeker status", "Not looking now")

    class Source(models.TextChoices):
        ONLINE = "online", pgettext_lazy("seeker source", "Online")
        KIOSK = "kiosk", pgettext_lazy("seeker source", "Kiosk")
        DESK = "desk", pgettext_lazy("seeker source", "Service desk")
        IMPORT = "import", pgettext_lazy("seeker source", "Import")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="seeker"
    )
    person = models.ForeignKey(
        "places.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="seeker_profiles"
    )
    name = models.CharField(_("name"), max_length=60)
    id_number_enc = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    id_number_masked = models.CharField(_("ID number"), max_length=24, blank=True, editable=False)
    phone_enc = models.TextField(blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    education = models.CharField(_("education"), max_length=10, choices=Education.choices, blank=True)
    # Where they live (for distances): a point near home, never the dwelling itself on a page.
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    path = models.CharField(max_length=120, db_index=True, editable=False)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="seekers")
    skills = models.ManyToManyField(Skill, related_name="seekers", blank=True)
    experience_years = models.PositiveSmallIntegerField(_("years of experience"), default=0)
    experience = models.TextField(_("experience"), blank=True, max_length=2000)
    wage_min = models.PositiveIntegerField(_("wanted wage from (yuan a month)"), null=True, blank=True)
    wage_max = models.PositiveIntegerField(_("wanted wage up to (yuan a month)"), null=True, blank=True)
    hours = models.PositiveSmallIntegerField(_("hours a week"), null=True, blank=True)
    travel_m = models.PositiveIntegerField(_("will travel up to (metres)"), default=5000)
    # Flags the street counts (employment targets, issue 14 §7).
    registered_unemployed = models.BooleanField(_("registered unemployed"), default=False)
    hard_to_employ = models.BooleanField(_("hard to employ (就业困难人员)"), default=False)
    discoverable = models.BooleanField(_("employers may find me"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SEEKING)
    source = models.CharField(_("registered by"), max_length=8, choices=Source.choices, default=Source.ONLINE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope: ClassVar[Scope] = Scope.of(path="path", owner="user_id", owner_actions={Action.VIEW, Action.SEEK})

    class Meta:
        verbose_name = _("job seeker")
        verbose_name_plural = _("job seekers")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~models.Q(id_number_hash=""), name="jobs_seeker_id_unique"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["discoverable", "status"])]

    def __str__(self) -> str:
        return self.name

    def set_id_number(self, value: str) -> None:
        value = normalise_id_number(value)
        self.id_number_enc = crypto.encrypt(value)
        self.id_number_hash = crypto.lookup_hash(value) if value else ""
        self.id_number_masked = mask_id_number(value) if value else ""

    def set_phone(self, value: str) -> None:
        value = "".join(ch for ch in (value or "") if ch.isdigit())
        self.phone_enc = crypto.encrypt(value)
        self.phone_hash = crypto.lookup_hash(value) if value else ""
        self.phone_masked = mask_phone(value) if value else ""

    # Full values only through the services, which log the read (accounts.services.reveal_contact).
    def _phone(self) -> str:
        return crypto.decrypt(self.phone_enc)

    def _id_number(self) -> str:
        return crypto.decrypt(self.id_number_enc)


class SeekerCode(models.Model):
    """A one-time SMS code for signing in at the kiosk with an ID-card number (issue 14 §5): a keyed
    hash with its salt (never the code), valid a few minutes, used once, dead after five wrong
    entries — after which the seeker's kiosk sign-in is locked for a while (``services.kiosk``)."""

    seeker = models.ForeignKey(Seeker, on_delete=models.CASCADE, related_name="codes")
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    failures = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("kiosk sign-in code")
        verbose_name_plural = _("kiosk sign-in codes")
        indexes: ClassVar = [models.Index(fields=["seeker", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.seeker_id} @ {self.sent_at:%Y-%m-%d %H:%M}"


# --- employers and postings --------------------------------------------------------------------------


class Employer(models.Model):
    """An enterprise (or other organisation) that hires near the street, identified by its unified
    social credit code (统一社会信用代码, GB 32100-2015, checked with its check character). Staff of
    the employment service verify it before any of its postings goes live."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("employer status", "Awaiting verification")
        VERIFIED = "verified", pgettext_lazy("employer status", "Verified")
        REJECTED = "rejected", pgettext_lazy("employer status", "Rejected")
        SUSPENDED = "suspended", pgettext_lazy("employer status", "Suspended")

    class Size(models.TextChoices):
        MICRO = "micro", pgettext_lazy("employer size", "Fewer than 10 people")
        SMALL = "small", pgettext_lazy("employer size", "10–99 people")
        MEDIUM = "medium", pgettext_lazy("employer size", "100–999 people")
        LARGE = "large", pgettext_lazy("employer size", "1,000 people or more")

    name = models.CharField(_("name"), max_length=120)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, blank=True)
    address = models.CharField(_("address"), max_length=200)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="employers")
    path = models.CharField(max_length=120, db_index=True, editable=False)
    contact_name = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone_enc = models.TextField(blank=True, editable=False)
    contact_phone_masked = models.CharField(_("contact phone"), max_length=20, blank=True, editable=False)
    description = models.TextField(_("about the employer"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    status_note = models.CharField(_("reason"), max_length=200, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    # One of the street's key enterprises (重点企业, seed 004: 192 of them), served by an officer.
    key_enterprise = models.BooleanField(_("key enterprise"), default=False)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="served_enterprises",
        verbose_name=_("service officer"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(
        path="path", owner="members__user_id", owner_actions={Action.VIEW, Action.HIRE}, distinct=True
    )

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        indexes: ClassVar = [models.Index(fields=["status"]), models.Index(fields=["key_enterprise"])]

    def __str__(self) -> str:
        return self.name

    def set_contact_phone(self, value: str) -> None:
        value = "".join(ch for ch in (value or "") if ch.isdigit())
        self.contact_phone_enc = crypto.encrypt(value)
        self.contact_phone_masked = mask_phone(value) if value else ""

    def _contact_phone(self) -> str:
        return crypto.decrypt(self.contact_phone_enc)


class EmployerMember(models.Model):
    """An account that acts for an employer (posts jobs, searches talent, files service requests)."""

    class Role(models.TextChoices):
        OWNER = "owner", pgettext_lazy("employer member", "Administrator")
        RECRUITER = "recruiter", pgettext_lazy("employer member", "Recruiter")

    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="employer_memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.RECRUITER)
    added_at = models.DateTimeField(auto_now_add=True)

    scope: ClassVar[Scope] = Scope.of(path="employer__path", owner="user_id", owner_actions={Action.VIEW})

    class Meta:
        verbose_name = _("employer member")
        verbose_name_plural = _("employer members")
        constraints: ClassVar = [models.UniqueConstraint(fields=["employer", "user"], name="jobs_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.employer}"


class Posting(models.Model):
    """A job an employer offers: skills, headcount, wage range, weekly hours, where, until when.

    Live (shown to seekers, matched, on the kiosk) when ``status`` is open, the employer is
    verified and ``closes_on`` has not passed (``queries.postings.live``)."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("posting status", "Draft")
        OPEN = "open", pgettext_lazy("posting status", "Open")
        FILLED = "filled", pgettext_lazy("posting status", "Filled")
        CLOSED = "closed", pgettext_lazy("posting status", "Closed")

    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="postings")
    title = models.CharField(_("job title"), max_length=80)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    category = models.ForeignKey(JobCategory, on_delete=models.PROTECT, related_name="postings")
    skills = models.ManyToManyField(Skill, related_name="postings")
    headcount = models.PositiveSmallIntegerField(_("headcount"), default=1)
    hired = models.PositiveSmallIntegerField(_("hired"), default=0, editable=False)
    wage_min = models.PositiveIntegerField(_("wage from (yuan a month)"))
    wage_max = models.PositiveIntegerField(_("wage up to (yuan a month)"))
    hours = models.PositiveSmallIntegerField(_("hours a week"))
    address = models.CharField(_("place of work"), max_length=200)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="postings")
    path = models.CharField(max_length=120, db_index=True, editable=False)
    closes_on = models.DateField(_("closing date"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    scope: ClassVar[Scope] = Scope.of(
        path="path", owner="employer__members__user_id", owner_actions={Action.VIEW, Action.HIRE}, distinct=True
    )

    class Meta:
        verbose_name = _("job posting")
        verbose_name_plural = _("job postings")
        indexes: ClassVar = [models.Index(fields=["status", "closes_on"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(wage_min__lte=models.F("wage_max")), name="jobs_posting_wage_order"
            ),
            models.CheckConstraint(condition=models.Q(headcount__gte=1), name="jobs_posting_headcount"),
        ]

    def __str__(self) -> str:
        return f"{self.title} · {self.employer}"


# --- applications, their history, placements ----------------------------------------------------------


class Application(models.Model):
    """One seeker and one posting: the seeker applied, or the employer invited them. Every step
    (apply, invite, accept, interview, hire, decline, withdraw) appends an ``ApplicationStep``.
    ``number`` is the slip number the kiosk prints (e.g. ``JY20261201-0042``). The employer sees the
    seeker's contact only from ``contact_released_at`` on (they applied, or accepted an invitation)."""

    class Status(models.TextChoices):
        INVITED = "invited", pgettext_lazy("application status", "Invited")
        APPLIED = "applied", pgettext_lazy("application status", "Applied")
        INTERVIEW = "interview", pgettext_lazy("application status", "Interview")
        HIRED = "hired", pgettext_lazy("application status", "Hired")
        DECLINED = "declined", pgettext_lazy("application status", "Declined")
        WITHDRAWN = "withdrawn", pgettext_lazy("application status", "Withdrawn")

    class Channel(models.TextChoices):
        ONLINE = "online", pgettext_lazy("application channel", "Online")
        KIOSK = "kiosk", pgettext_lazy("application channel", "Kiosk")
        DESK = "desk", pgettext_lazy("application channel", "Service desk")

    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="applications")
    seeker = models.ForeignKey(Seeker, on_delete=models.PROTECT, related_name="applications")
    number = models.CharField(_("number"), max_length=20, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    invited = models.BooleanField(_("the employer invited"), default=False)
    # The CV the seeker sent with this application (a snapshot: skills, experience, a few lines).
    cv = models.JSONField(_("CV"), default=dict, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    interview_at = models.DateTimeField(_("interview at"), null=True, blank=True)
    contact_released_at = models.DateTimeField(null=True, blank=True)
    path = models.CharField(max_length=120, db_index=True, editable=False)  # the posting's
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    scope: ClassVar[Scope] = Scope.of(
        path="path",
        owner=("seeker__user_id", "posting__employer__members__user_id"),
        owner_actions={Action.VIEW},
        distinct=True,
    )

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints: ClassVar = [models.UniqueConstraint(fields=["posting", "seeker"], name="jobs_application_once")]
        indexes: ClassVar = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return self.number


class ApplicationStep(models.Model):
    """Append-only history of an application (never updated or deleted)."""

    class Kind(models.TextChoices):
        APPLY = "apply", pgettext_lazy("application step", "Applied")
        INVITE = "invite", pgettext_lazy("application step", "Invited")
        ACCEPT = "accept", pgettext_lazy("application step", "Accepted the invitation")
        INTERVIEW = "interview", pgettext_lazy("application step", "Interview arranged")
        HIRE = "hire", pgettext_lazy("application step", "Hired")
        DECLINE = "decline", pgettext_lazy("application step", "Declined")
        WITHDRAW = "withdraw", pgettext_lazy("application step", "Withdrawn")
        NOTE = "note", pgettext_lazy("application step", "Note")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=10, choices=Kind.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # "seeker", "employer" or "staff": who took the step (the kiosk has no account: seeker, actor None)
    side = models.CharField(max_length=8)
    note = models.CharField(_("note"), max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class Placement(models.Model):
    """A person placed in work: a hire on the platform, or an entry by staff (with its source).
    The employment targets count placements (new jobs; re-employed registered unemployed;
    hard-to-employ placed) by ``started_on`` and ``path``; the flags are copied at the hire."""

    class Source(models.TextChoices):
        PLATFORM = "platform", pgettext_lazy("placement source", "Hired on the platform")
        STAFF = "staff", pgettext_lazy("placement source", "Entered by staff")

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="placement"
    )
    seeker = models.ForeignKey(Seeker, on_delete=models.PROTECT, related_name="placements")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="placements")
    started_on = models.DateField(_("started on"))
    path = models.CharField(max_length=120, db_index=True, editable=False)  # the seeker's
    registered_unemployed = models.BooleanField(_("was registered unemployed"), default=False)
    hard_to_employ = models.BooleanField(_("was hard to employ"), default=False)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.PLATFORM)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    scope: ClassVar[Scope] = Scope.of(path="path")

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        # covering: the targets count placements by day, place and the two flags from the index alone
        indexes: ClassVar = [
            models.Index(
                fields=["started_on", "path", "registered_unemployed", "hard_to_employ"], name="jobs_placement_count"
            )
        ]

    def __str__(self) -> str:
        return f"{self.seeker} → {self.employer} ({self.started_on})"


# --- key-enterprise services ---------------------------------------------------------------------------


class ServiceRequest(models.Model):
    """A key enterprise's request to the employment service (recruitment, social security, subsidies,
    training): filed by the enterprise, accepted, worked and closed by a service officer before
    ``due_at``; the enterprise sees each step and rates the service at the end."""

    class Kind(models.TextChoices):
        RECRUITMENT = "recruitment", pgettext_lazy("service kind", "Recruitment")
        SOCIAL_SECURITY = "social_security", pgettext_lazy("service kind", "Social security")
        SUBSIDY = "subsidy", pgettext_lazy("service kind", "Employment subsidies")
        TRAINING = "training", pgettext_lazy("service kind", "Training")
        OTHER = "other", pgettext_lazy("service kind", "Other")

    class Status(models.TextChoices):
        FILED = "filed", pgettext_lazy("service status", "Filed")
        ACCEPTED = "accepted", pgettext_lazy("service status", "Accepted")
        WORKING = "working", pgettext_lazy("service status", "In progress")
        CLOSED = "closed", pgettext_lazy("service status", "Closed")
        REJECTED = "rejected", pgettext_lazy("service status", "Not accepted")

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="service_requests")
    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    detail = models.TextField(_("detail"), max_length=4000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.FILED)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    path = models.CharField(max_length=120, db_index=True, editable=False)  # the employer's
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filed_at = models.DateTimeField()
    due_at = models.DateTimeField(_("due"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(_("result"), blank=True, max_length=4000)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    satisfaction_note = models.CharField(_("comment"), max_length=500, blank=True)

    scope: ClassVar[Scope] = Scope.of(
        path="path", owner="employer__members__user_id", owner_actions={Action.VIEW, Action.HIRE}, distinct=True
    )

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        indexes: ClassVar = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ServiceStep(models.Model):
    """Append-only progress of a service request, shown to the enterprise."""

    class Kind(models.TextChoices):
        FILE = "file", pgettext_lazy("service step", "Filed")
        ACCEPT = "accept", pgettext_lazy("service step", "Accepted")
        REJECT = "reject", pgettext_lazy("service step", "Not accepted")
        PROGRESS = "progress", pgettext_lazy("service step", "Progress")
        CLOSE = "close", pgettext_lazy("service step", "Closed")
        RATE = "rate", pgettext_lazy("service step", "Rated")
        REASSIGN = "reassign", pgettext_lazy("service step", "Handed to another officer")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("service step")
        verbose_name_plural = _("service steps")
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


# --- employment targets ----------------------------------------------------------------------------------


class Metric(models.TextChoices):
    """The three figures the district reports (seed 004)."""

    NEW_JOBS = "new_jobs", pgettext_lazy("employment metric", "New urban jobs")
    REEMPLOYED = "reemployed", pgettext_lazy("employment metric", "Unemployed people re-employed")
    HARD_PLACED = "hard_placed", pgettext_lazy("employment metric", "Hard-to-employ people placed")


class EmploymentTarget(models.Model):
    """A year's target of one metric for a district or a street (``path`` of that place).

    Set again, the row keeps who set it and when, and appends the value it replaces to
    ``history`` (``[{"target", "set_by", "set_by_name", "set_at"}, …]``, oldest first): an auditor
    sees every earlier target (``services.targets.set_target``)."""

    year = models.PositiveSmallIntegerField(_("year"))
    place_kind = models.CharField(_("place kind"), max_length=10)  # "district" or "street"
    place_id = models.BigIntegerField()
    path = models.CharField(max_length=120, db_index=True)
    metric = models.CharField(_("figure"), max_length=12, choices=Metric.choices)
    target = models.PositiveIntegerField(_("target"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_at = models.DateTimeField()
    history = models.JSONField(default=list, blank=True, editable=False)

    scope: ClassVar[Scope] = Scope.of(path="path")

    class Meta:
        verbose_name = _("employment target")
        verbose_name_plural = _("employment targets")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["year", "path", "metric"], name="jobs_target_once"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.path} {self.metric} {self.target}"


class TargetEntry(models.Model):
    """Actuals entered by staff beside the platform's placements (jobs found through other
    channels), each with its source (e.g. "人社局月报"); counted by ``on`` and ``path``.

    Never deleted: an entry made in error is *withdrawn* (who, when, why) by its author or the
    district's staff within the calendar month it was entered; it then stops counting but stays
    listed and exported (``services.targets.remove_entry``, docs/jobs.md "Employment targets")."""

    path = models.CharField(max_length=120, db_index=True)
    metric = models.CharField(_("figure"), max_length=12, choices=Metric.choices)
    count = models.PositiveIntegerField(_("count"))
    on = models.DateField(_("date"))
    source = models.CharField(_("source"), max_length=200)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_reason = models.CharField(_("reason for withdrawal"), max_length=200, blank=True)

    scope: ClassVar[Scope] = Scope.of(path="path")

    class Meta:
        verbose_name = _("employment figure entry")
        verbose_name_plural = _("employment figure entries")
        indexes: ClassVar = [models.Index(fields=["metric", "on"])]

    def __str__(self) -> str:
        return f"{self.on} {self.metric} {self.count}"
