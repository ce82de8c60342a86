"""Reads for the grid event pages: lists, filters, the report page's places and map, the detail
page's progress bar, history and the moves a user may take now.

Nothing here writes; every write goes through ``linli.governance.services.events``. Scope always
comes from ``linli.accounts.permissions`` (``scoped`` / ``get_or_404``) and governance's predicates
(``linli.governance.permissions``): the scoped look-ups the pages need (``event_for``, ``photo_for``,
``building_in``, ``department``, ``duplicate_in_scope``) live here. ``allowed_moves`` only decides
which forms to *show*; the service checks again when a form is posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.urls import reverse

from linli.accounts.models import Department
from linli.accounts.permissions import authorize, can, scoped
from linli.accounts.roles import Action
from linli.core import clock, crypto, lang, masking
from linli.core.errors import LinliError
from linli.core.ids import as_id
from linli.core.types import User
from linli.governance import inputs, loop, permissions
from linli.governance.categories import SECTOR_NAMES, Sector
from linli.governance.loop import MOVE_NAMES, SEVEN, STEP_NAMES, Move, Step
from linli.governance.models import Category, Event, EventLog, EventPhoto, EventRequest
from linli.governance.services import events as svc
from linli.places import models as places_models
from linli.places.geometry import bbox_polygon, feature

MAX_PLACES = 2000  # buildings offered on the report page (list and map)
PER_PAGE = 25

# Moves shown as forms on the detail page, in the order they appear. BACKLOG / EXTEND / DEFER are
# only *asked* for by a department (``ask``) and approved by the command centre.
PAGE_MOVES: tuple[Move, ...] = (
    Move.REGISTER,
    Move.DISPATCH,
    Move.ACCEPT,
    Move.REPORT,
    Move.VERIFY_PASS,
    Move.VERIFY_FAIL,
    Move.EVALUATE,
    Move.URGENT,
    Move.NOT_URGENT,
    Move.WHISTLE,
    Move.RETURN,
    Move.UNBACKLOG,
    Move.VOID,
    Move.NOTE,
)
# Requests a department may make (EventRequest.Kind → the move it would take once approved).
ASKS: tuple[tuple[str, Move], ...] = (
    (EventRequest.Kind.RETURN.value, Move.RETURN),
    (EventRequest.Kind.EXTEND.value, Move.EXTEND),
    (EventRequest.Kind.DEFER.value, Move.DEFER),
    (EventRequest.Kind.BACKLOG.value, Move.BACKLOG),
    (EventRequest.Kind.VOID.value, Move.VOID),
)
# History a reporter without EVENTS may read on their own case: what happened, never who did it.
PUBLIC_NOTE_MOVES = frozenset({Move.REPORT.value, Move.VERIFY_PASS.value, Move.VOID.value})


# --- categories ------------------------------------------------------------------------------------


@dataclass
class SectorGroup:
    code: str
    zh: str
    en: str
    categories: list[Category]


def categories_by_sector() -> list[SectorGroup]:
    """Active categories grouped by the four sectors (一中心四板块), in catalogue order."""
    groups = {s.value: SectorGroup(s.value, *SECTOR_NAMES[s], []) for s in Sector}
    for cat in Category.objects.filter(active=True).order_by("order", "code"):
        groups.setdefault(cat.sector, SectorGroup(cat.sector, cat.sector, cat.sector, [])).categories.append(cat)
    return [g for g in groups.values() if g.categories]


def attribute_fields(category: Category) -> list[dict[str, Any]]:
    """The category's Open311 attributes as form fields (name ``attr-<category>-<attribute>``)."""
    out = []
    for a in category.attributes or []:
        out.append(
            {
                "code": a["code"],
                "name": inputs.attribute_field(category.code, a["code"]),
                "zh": a.get("zh", a["code"]),
                "en": a.get("en", ""),
                "datatype": a.get("datatype", "string"),
                "required": bool(a.get("required")),
                "values": [
                    {"key": str(v[0]), "zh": v[1], "en": v[2] if len(v) > 2 else ""} for v in a.get("values", [])
                ],
            }
        )
    return out


def attribute_display(event: Event) -> list[dict[str, str]]:
    """The event's attribute values with the category's labels (unknown codes shown as given)."""
    specs = {a["code"]: a for a in attribute_fields(event.category)}
    out = []
    for code, value in (event.attributes or {}).items():
        spec = specs.get(code)
        values = value if isinstance(value, list) else [value]
        if spec is None:
            out.append({"zh": code, "en": "", "value": "、".join(str(v) for v in values)})
            continue
        names = {v["key"]: lang.pick(v["zh"], v["en"]) for v in spec["values"]}
        text = "、".join(names.get(str(v), str(v)) for v in values)
        out.append({"zh": spec["zh"], "en": spec["en"], "value": text})
    return out


def attributes_from_post(post: inputs.Form, code: str) -> dict[str, Any]:
    """The posted attribute values of the chosen category only (other categories' fields ignored;
    ``inputs.form_attributes``)."""
    category = Category.objects.filter(code=(code or "").strip()).first()
    if category is None:
        return {}
    return inputs.form_attributes(category.code, category.attributes or [], post)


def active_category(code: str) -> Category | None:
    """The active category with ``code``, or None."""
    return Category.objects.filter(code=code, active=True).first()


def active_categories() -> list[Category]:
    return list(Category.objects.filter(active=True).order_by("order", "code"))


# --- places offered on the report page ---------------------------------------------------------------


def report_buildings(user: User, action: Action = Action.VIEW) -> QuerySet[places_models.Building]:
    """Buildings the user may pick from: their scope for ``action``, plus (for VIEW) the buildings
    of their own dwellings (a resident)."""
    qs = scoped(user, action, places_models.Building.objects.all())
    if action == Action.VIEW:
        own = scoped(user, Action.VIEW, places_models.Dwelling.objects.all()).values("unit__building_id")
        qs = places_models.Building.objects.filter(Q(pk__in=qs.values("pk")) | Q(pk__in=own))
    return qs.select_related("community", "compound").order_by("path")


MAX_FOUND = 12  # buildings a typeahead answer lists


def find_buildings(buildings: QuerySet[places_models.Building], text: str) -> list[dict[str, Any]]:
    """Buildings among ``buildings`` (already scoped) whose compound, name or address holds every
    word of ``text`` ("瑞丰 2栋", "劳动路 12"): at most ``MAX_FOUND``, as ``{"pk", "label", "address"}``.
    Fewer than one character finds nothing (the hotline desk types, the list follows)."""
    words = " ".join((text or "").split())[:60].split()[:4]
    if not words:
        return []
    qs = buildings
    for word in words:
        qs = qs.filter(
            Q(compound__name__icontains=word)
            | Q(name__icontains=word)
            | Q(compound__address__icontains=word)
            | Q(community__name__icontains=word)
        )
    return [
        {
            "pk": b.pk,
            "label": f"{b.compound.name} {b.name}",
            "address": b.compound.address,
            "community": b.community.name,
        }
        for b in qs.select_related("compound", "community").order_by("compound__name", "name", "pk")[:MAX_FOUND]
    ]


def building_label(buildings: QuerySet[places_models.Building], raw: str) -> str:
    """The label of a building already chosen (kept on the page when the form comes back)."""
    pk = as_id(raw)
    b = buildings.filter(pk=pk).select_related("compound").first() if pk is not None else None
    return f"{b.compound.name} {b.name}" if b else ""


def place_choices(buildings: QuerySet[places_models.Building]) -> list[dict[str, Any]]:
    """Buildings grouped by community for a <select> with optgroups."""
    groups: dict[int, dict[str, Any]] = {}
    for b in buildings[:MAX_PLACES]:
        g = groups.setdefault(b.community_id, {"name": b.community.name, "buildings": []})
        g["buildings"].append({"pk": b.pk, "label": f"{b.compound.name} {b.name}"})
    return list(groups.values())


def place_map(user: User, buildings: QuerySet[places_models.Building]) -> dict[str, Any]:
    """GeoJSON of the user's grids (outlined around their buildings) and building points."""
    rows = list(buildings.values("id", "name", "lat", "lon", "grid_id", "compound__name")[:MAX_PLACES])
    features: list[dict[str, Any]] = []
    pts: dict[int, list[tuple[float, float]]] = {}
    for b in rows:
        if b["lat"] is None or b["lon"] is None:
            continue
        if b["grid_id"]:
            pts.setdefault(b["grid_id"], []).append((b["lat"], b["lon"]))
    grids = scoped(user, Action.VIEW, places_models.Grid.objects.filter(pk__in=list(pts))).values("id", "name")
    for g in grids:
        p = pts[g["id"]]
        area = bbox_polygon(
            min(x[0] for x in p), min(x[1] for x in p), max(x[0] for x in p), max(x[1] for x in p), 40.0
        )
        features.append(feature(area, name=g["name"], kind="grid", url=reverse("places:grid", args=[g["id"]])))
    for b in rows:
        if b["lat"] is None or b["lon"] is None:
            continue
        features.append(
            feature(
                {"type": "Point", "coordinates": [b["lon"], b["lat"]]},
                name=f"{b['compound__name']} {b['name']}",
                kind="building",
                building=b["id"],
            )
        )
    return {"type": "FeatureCollection", "features": features}


def event_map(event: Event) -> dict[str, Any]:
    """One point: where the event is."""
    return {
        "type": "FeatureCollection",
        "features": [
            feature(
                {"type": "Point", "coordinates": [event.lon, event.lat]},
                name=f"#{event.pk} {event.category.label}",
                kind="event",
                color="#b3261e",
            )
        ],
    }


# --- nearby possible duplicates ----------------------------------------------------------------------


def nearby(user: User, category: Category, lat: float, lon: float, exclude: int | None = None) -> dict[str, Any]:
    """Open events of the same category nearby (svc.nearby_open): those the user may see with
    EVENTS in full, the rest only counted."""
    found = svc.nearby_open(category, lat, lon, exclude=exclude, limit=20)
    visible_ids = set(
        scoped(user, Action.EVENTS, Event.objects.filter(pk__in=[e.pk for e in found])).values_list("pk", flat=True)
    )
    shown = [e for e in found if e.pk in visible_ids]
    return {"shown": shown, "hidden": len(found) - len(shown), "total": len(found)}


# --- lists -------------------------------------------------------------------------------------------


def overdue_q(now: datetime) -> Q:
    """The rows ``services.is_overdue`` says are overdue (open, not on the backlog, not deferred,
    past the step's deadline), as a filter."""
    return Q(step__in=[s.value for s in loop.OPEN_STEPS], backlog=False, step_due_at__lt=now) & (
        Q(deferred_until__isnull=True) | Q(deferred_until__lte=now)
    )


@dataclass
class Filters:
    step: str = ""
    sector: str = ""
    category: str = ""
    grid: int | None = None
    overdue: bool = False
    mine: bool = False
    q: str = ""  # search: a case number, a reporter's phone, or words of the place or the problem

    def query(self) -> str:
        from urllib.parse import urlencode

        pairs = [
            (k, v)
            for k, v in (
                ("step", self.step),
                ("sector", self.sector),
                ("category", self.category),
                ("grid", str(self.grid) if self.grid else ""),
                ("overdue", "1" if self.overdue else ""),
                ("mine", "1" if self.mine else ""),
                ("q", self.q),
            )
            if v
        ]
        return urlencode(pairs)


def parse_filters(get: Any) -> Filters:
    """Unknown values are ignored (the list then shows everything in scope), never an error."""
    f = Filters()
    step = get.get("step", "")
    f.step = step if step in Step._value2member_map_ else ""
    sector = get.get("sector", "")
    f.sector = sector if sector in Sector._value2member_map_ else ""
    f.category = (get.get("category") or "").strip()[:20]
    grid = get.get("grid", "")
    f.grid = as_id(grid)
    f.overdue = get.get("overdue") == "1"
    f.mine = get.get("mine") == "1"
    f.q = " ".join((get.get("q") or "").split())[:60]
    return f


@dataclass(frozen=True)
class Search:
    """What a search box's text asks for: one case by number (``#123`` or digits shorter than a
    phone), the cases a phone reported (11 digits: matched by its keyed hash, never by decrypting),
    or every word somewhere in the place, the address, the category or the description."""

    number: int | None = None
    phone: str = ""
    words: tuple[str, ...] = ()


def parse_search(text: str) -> Search:
    text = text.strip()
    digits = text.lstrip("#")
    if digits.isdigit() and (text.startswith("#") or len(digits) < 11):
        return Search(number=as_id(digits) or 0)
    if masking.is_valid_phone(text):
        return Search(phone=text)
    return Search(words=tuple(text.split()[:6]))


def search_q(search: Search) -> Q:
    """The filter of ``search`` (every word must be found, each in any of the fields)."""
    if search.number is not None:
        return Q(pk=search.number)
    if search.phone:
        return Q(reporter_phone_hash=crypto.lookup_hash(search.phone))
    out = Q()
    for word in search.words:
        out &= (
            Q(building__compound__name__icontains=word)
            | Q(building__name__icontains=word)
            | Q(address__icontains=word)
            | Q(category__name__icontains=word)
            | Q(description__icontains=word)
        )
    return out


def events_for(user: User, f: Filters) -> QuerySet[Event]:
    """The list: events in the user's EVENTS scope, or (``mine``, or no EVENTS at all) their own reports.
    Open urgent cases first, then the newest. A search by phone is for the handling chain only (a
    reporter's own list ignores it) and the view logs it (``services.events.log_phone_search``)."""
    base = Event.objects.select_related("category", "grid", "community", "department", "building__compound")
    own = f.mine or not permissions.holds(user, Action.EVENTS)
    qs = base.filter(reporter_id=user.pk) if own else scoped(user, Action.EVENTS, base)
    if f.step:
        qs = qs.filter(step=f.step)
    if f.sector:
        qs = qs.filter(sector=f.sector)
    if f.category:
        qs = qs.filter(category__code=f.category)
    if f.grid:
        qs = qs.filter(grid_id=f.grid)
    if f.overdue:
        qs = qs.filter(overdue_q(clock.now()))
    if f.q:
        search = parse_search(f.q)
        if search.phone and own:
            return qs.none()
        qs = qs.filter(search_q(search))
    hot = Q(urgent=True, step__in=[s.value for s in loop.OPEN_STEPS])
    return qs.annotate(_hot=Case(When(hot, then=Value(1)), default=Value(0), output_field=IntegerField())).order_by(
        "-_hot", "-created_at", "-pk"
    )


def grid_choices(user: User) -> list[places_models.Grid]:
    return (
        list(scoped(user, Action.EVENTS, places_models.Grid.objects.all()).order_by("code")[:500])
        if permissions.holds(user, Action.EVENTS)
        else []
    )


# --- the detail page ---------------------------------------------------------------------------------


def progress(event: Event) -> list[dict[str, Any]]:
    """The seven steps with their state: done, current or todo. A voided case shows the steps it
    passed before it was voided."""
    step = Step(event.step)
    if step == Step.VOIDED:
        last = (
            EventLog.objects.filter(event=event, move=Move.VOID).values_list("step_from", flat=True).first()
            or Step.COLLECTED
        )
        reached = SEVEN.index(Step(last))
        current = -1
    else:
        reached = SEVEN.index(step)
        current = reached
    out = []
    for i, s in enumerate(SEVEN):
        state = "current" if i == current else ("done" if i < reached or (current == -1 and i <= reached) else "todo")
        out.append({"step": s.value, "zh": STEP_NAMES[s][0], "en": STEP_NAMES[s][1], "state": state, "n": i + 1})
    return out


def history(event: Event, full: bool) -> list[dict[str, Any]]:
    """The EventLog timeline. ``full`` for the handling chain (who, department, notes); otherwise
    only what happened and when, with the notes of the outcome moves (what was done, why voided)."""
    out = []
    for row in EventLog.objects.filter(event=event).select_related("actor", "department").order_by("at", "pk"):
        zh, en = row.move_names
        item: dict[str, Any] = {"at": row.at, "zh": zh, "en": en, "move": row.move}
        if row.step_to and row.step_from != row.step_to:
            to_zh, to_en = STEP_NAMES[Step(row.step_to)]
            item["to"] = {"zh": to_zh, "en": to_en}
        if full:
            item["who"] = row.actor_label or (str(row.actor) if row.actor else "")
            item["department"] = row.department.name if row.department else ""
            item["note"] = row.note
            item["data"] = row.data
        elif row.move in PUBLIC_NOTE_MOVES:
            item["note"] = row.note
        out.append(item)
    return out


def allowed_moves(user: User, event: Event) -> list[str]:
    """Moves of ``PAGE_MOVES`` the user may take now (step allows it, role allows it; verification
    never by someone who handled the case)."""
    step = Step(event.step)
    out = []
    hands: set[int] | None = None
    for mv in PAGE_MOVES:
        rule = loop.RULES[mv]
        if step not in rule.from_steps or not permissions.may_take(user, event, mv):
            continue
        if mv == Move.UNBACKLOG and not event.backlog:
            continue
        if (mv == Move.URGENT and event.urgent) or (mv == Move.NOT_URGENT and not event.urgent):
            continue
        if mv in (Move.VERIFY_PASS, Move.VERIFY_FAIL):
            hands = permissions.handlers(event) if hands is None else hands
            if not permissions.may_verify(user, event, hands):
                continue
        out.append(mv.value)
    return out


def allowed_asks(user: User, event: Event) -> list[dict[str, str]]:
    """Requests the department may make now (none while one is pending)."""
    if not can(user, Action.HANDLE, event) or pending_request(event) is not None:
        return []
    step = Step(event.step)
    kinds = dict(EventRequest.Kind.choices)
    return [
        {"kind": kind, "label": str(kinds[kind]), "zh": MOVE_NAMES[mv][0], "en": MOVE_NAMES[mv][1]}
        for kind, mv in ASKS
        if step in loop.RULES[mv].from_steps
    ]


def pending_request(event: Event) -> EventRequest | None:
    return (
        EventRequest.objects.filter(event=event, decision=EventRequest.Decision.PENDING)
        .select_related("requested_by", "department")
        .first()
    )


def dispatch_choices(event: Event) -> tuple[list[Department], int | None]:
    """Departments that may take the case: ``svc.route``'s order first (its first is the
    default), then any other active department serving the place."""
    routed = svc.route(event.category, event.path, event.street)
    others = [
        d
        for d in Department.objects.filter(active=True, district_id=event.street.district_id).order_by("kind", "code")
        if d not in routed and event.path.startswith(d.path)
    ]
    return routed + others, routed[0].pk if routed else None


def move_label(move: str) -> tuple[str, str]:
    return MOVE_NAMES[Move(move)]


# --- scoped look-ups for the pages ---------------------------------------------------------------


def event_for(user: User, pk: int) -> tuple[Event, bool]:
    """The event and whether the user sees it in full (``permissions.sees_in_full``: EVENTS); its
    reporter without EVENTS sees a reduced view; anyone else: 404 outside the scope, 403 inside it
    without the right."""
    event = (
        Event.objects.select_related(
            "category", "building__compound", "grid", "community", "street", "department", "handler"
        )
        .filter(pk=pk)
        .first()
    )
    if event is None:
        raise Http404("no such event")
    if permissions.sees_in_full(user, event):
        return event, True
    if permissions.is_reporter(user, event):
        return event, False
    authorize(user, Action.EVENTS, event)
    raise Http404("not in scope")  # pragma: no cover - authorize raised


def photo_for(user: User, pk: int) -> EventPhoto:
    """A photo of an event the user may see (``event_for``); 404 otherwise."""
    photo = EventPhoto.objects.select_related("event").filter(pk=pk).first()
    if photo is None:
        raise Http404("no such photo")
    event_for(user, photo.event_id)
    return photo


def photos_of(event: Event) -> list[EventPhoto]:
    return list(EventPhoto.objects.filter(event=event).order_by("pk"))


def building_in(user: User, raw: str, action: Action) -> places_models.Building:
    """A building picked from the report page's list: it must be one the page offered (the user's
    scope for ``action``), else a 400 ``unknown_building``."""
    pk = as_id(raw)
    b = report_buildings(user, action).filter(pk=pk).first() if pk is not None else None
    if b is None:
        raise LinliError.one("unknown_building", "所选楼栋不存在。", "The chosen building does not exist.")
    return b


def department(raw: str) -> Department:
    """The department a dispatch form names (``act`` checks that it serves the place); a 400
    ``unknown_department`` when there is none."""
    found = Department.objects.filter(pk=as_id(raw) or 0).first()
    if found is None:
        raise LinliError.one("unknown_department", "所选部门不存在。", "The chosen department does not exist.")
    return found


def duplicate_in_scope(user: User, raw: str) -> Event:
    """The case a void names as the original: one the user sees with EVENTS, else a 400."""
    found = scoped(user, Action.EVENTS, Event.objects.all()).filter(pk=int(raw) if raw.isdigit() else 0).first()
    if found is None:
        raise LinliError.one("bad_duplicate", "所选的重复案件不存在。", "The case it duplicates does not exist.")
    return found
