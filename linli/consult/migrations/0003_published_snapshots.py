"""Issue 8: what was published stays published.

Schema: ``Notice.snapshot`` (+ its sha256), ``NoticeCorrection``, the withdrawn state of a ballot.

Data: notices and counted ballots published before this migration have no snapshot. They get one
**reconstructed from the rows as they are when the migration runs** (names of the compound,
community, street and project *now*, not necessarily as they were printed): that is the best that
can be rebuilt, and the snapshot says so with ``"reconstructed": true`` (pages show a note). A
notice's title, text, dates and a ballot's figures were already stored and are exact.
"""

import hashlib
import json
from datetime import date, timedelta

import django.db.models.deletion
import linli.core.clock
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def _iso(value):
    if value is None:
        return None
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    return value.isoformat()


def _places(compound):
    community = compound.community
    street = community.street
    return {
        "compound": {"id": compound.pk, "name": compound.name},
        "community": {"id": community.pk, "name": community.name},
        "street": {"id": street.pk, "name": street.name},
        "district": {"id": street.district_id, "name": street.district.name},
        "place_label": f"{street.name} {community.name} {compound.name}",
        "issuer": f"{community.name}居民委员会",
    }


def _user(User, pk):
    u = User.objects.filter(pk=pk).first() if pk else None
    if u is None:
        return None
    return {"id": u.pk, "name": getattr(u, "display_name", "") or u.username}


def _digest(snap):
    text = json.dumps(snap, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


MATTERS = {
    "1": "(1) owners' assembly rules", "2": "(2) management covenant",
    "3": "(3) elect or replace the owners' committee", "4": "(4) hire or dismiss the property manager",
    "5": "(5) use the repair funds", "6": "(6) raise the repair funds",
    "7": "(7) rebuild or reconstruct buildings and facilities",
    "8": "(8) change the use of common parts or run a business on them", "9": "(9) other major matters",
    "lift": "add a lift to an existing building",
}


def fill(apps, schema_editor):
    Ballot = apps.get_model("consult", "Ballot")
    Notice = apps.get_model("consult", "Notice")
    RollEntry = apps.get_model("consult", "RollEntry")
    Compound = apps.get_model("places", "Compound")
    Building = apps.get_model("places", "Building")
    Unit = apps.get_model("places", "Unit")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))

    for b in Ballot.objects.filter(status="closed").exclude(result__isnull=True).iterator():
        result = dict(b.result)
        if result.get("snapshot"):
            continue
        if b.scope_kind == "compound":
            scope = Compound.objects.get(pk=b.scope_id)
            compound, label = scope, scope.name
        elif b.scope_kind == "building":
            scope = Building.objects.get(pk=b.scope_id)
            compound, label = scope.compound, f"{scope.compound.name} {scope.name}"
        else:
            scope = Unit.objects.get(pk=b.scope_id)
            compound = scope.building.compound
            label = f"{compound.name} {scope.building.name} {scope.number}单元"
        entries = RollEntry.objects.filter(ballot_id=b.pk)
        project = b.project
        result.setdefault("outcome", "counted")
        result.setdefault("decided", True)
        result["snapshot"] = {
            "v": 1,
            "outcome": "counted",
            "title": b.title,
            "question": b.question,
            "matter": b.matter,
            "matter_label": MATTERS.get(b.matter, b.matter),
            "scope_kind": b.scope_kind,
            "scope_label": label,
            **_places(compound),
            "project": {"id": project.pk, "name": project.name} if project is not None else None,
            "roll": {
                "dwellings": entries.count(),
                "owners": entries.values("owner_key").distinct().count(),
                "digest": b.roll_digest,
            },
            "opens_at": _iso(b.opens_at),
            "closes_at": _iso(b.closes_at),
            "ended_by": _user(User, result.get("closed_by")),
            "ended_at": result.get("closed_at") or _iso(b.closed_at),
            "reconstructed": True,
        }
        Ballot._base_manager.filter(pk=b.pk).update(result=result)

    for n in Notice.objects.filter(snapshot__isnull=True).select_related("project__compound").iterator():
        starts = n.starts_on if isinstance(n.starts_on, date) else date.fromisoformat(str(n.starts_on))
        ballot = None
        if n.ballot_id:
            b = Ballot.objects.get(pk=n.ballot_id)
            r = b.result or {}
            bs = r.get("snapshot") or {}
            ballot = {
                "id": b.pk, "title": b.title, "question": b.question, "matter": b.matter,
                "matter_label": MATTERS.get(b.matter, b.matter), "status": b.status,
                "scope_label": bs.get("scope_label", ""), "roll": bs.get("roll"), "closes_at": _iso(b.closes_at),
            }
            if b.status == "closed":
                for key in ("closed_at", "counts", "thresholds", "participating_area", "participating_owners",
                            "approving_area", "approving_owners", "lift"):
                    ballot[key] = r.get(key)
                for key in ("approved", "approved_by_vote", "quorum_met"):
                    ballot[key] = bool(r.get(key))
        snap = {
            "v": 1,
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "project": {"id": n.project.pk, "name": n.project.name},
            **_places(n.project.compound),
            "scope_label": f"{n.project.compound.name} · {n.project.name}",
            "starts_on": starts.isoformat(),
            "ends_on": (starts + timedelta(days=n.days - 1)).isoformat(),
            "days": n.days,
            "published_by": _user(User, n.published_by_id),
            "published_at": _iso(n.published_at),
            "ballot": ballot,
            "reconstructed": True,
        }
        # _base_manager: a plain manager, also when this runs with the real models (tests)
        Notice._base_manager.filter(pk=n.pk).update(snapshot=snap, snapshot_sha256=_digest(snap))


class Migration(migrations.Migration):

    dependencies = [
        ('consult', '0002_objection_change'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='ballot',
            name='withdrawn_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ballot',
            name='withdrawn_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='ballot',
            name='withdrawn_reason',
            field=models.TextField(blank=True, editable=False, verbose_name='reason for withdrawing'),
        ),
        migrations.AddField(
            model_name='notice',
            name='snapshot',
            field=models.JSONField(blank=True, editable=False, null=True, verbose_name='as published'),
        ),
        migrations.AddField(
            model_name='notice',
            name='snapshot_sha256',
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name='ballot',
            name='status',
            field=models.CharField(choices=[('draft', 'draft'), ('open', 'open'), ('closed', 'closed'), ('withdrawn', 'withdrawn')], default='draft', max_length=10, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='notice',
            name='kind',
            field=models.CharField(choices=[('plan', 'plan notice 方案公示'), ('result', 'result notice 结果公示'), ('withdrawal', 'withdrawal notice 撤回公示')], max_length=10, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='notice',
            name='published_at',
            field=models.DateTimeField(default=linli.core.clock.now, editable=False),
        ),
        migrations.CreateModel(
            name='NoticeCorrection',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField(verbose_name='correction')),
                ('reason', models.TextField(verbose_name='why it is corrected')),
                ('by_name', models.CharField(editable=False, max_length=150)),
                ('at', models.DateTimeField(default=linli.core.clock.now, editable=False)),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('notice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='corrections', to='consult.notice')),
            ],
            options={
                'verbose_name': 'notice correction',
                'verbose_name_plural': 'notice corrections',
                'ordering': ['at', 'id'],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
