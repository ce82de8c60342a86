"""The device profiles a district starts with (linli/sensing/profiles.py); afterwards they are data."""

from django.db import migrations

from linli.sensing.profiles import PROFILES


def load(apps, schema_editor):
    Profile = apps.get_model("sensing", "DeviceProfile")
    ProfileChannel = apps.get_model("sensing", "ProfileChannel")
    ProfileRule = apps.get_model("sensing", "ProfileRule")
    for spec in PROFILES:
        if Profile.objects.filter(code=spec["code"]).exists():
            continue
        profile = Profile.objects.create(
            code=spec["code"],
            name=spec["name"],
            name_en=spec["name_en"],
            kind=spec["kind"],
            offline_after_s=spec["offline_after_s"],
            offline_severity=spec["offline_severity"],
        )
        for key, name, name_en, unit, value_type, lo, hi in spec["channels"]:
            ProfileChannel.objects.create(
                profile=profile,
                key=key,
                name=name,
                name_en=name_en,
                unit=unit,
                value_type=value_type,
                min_value=lo,
                max_value=hi,
            )
        for rule in spec["rules"]:
            ProfileRule.objects.create(profile=profile, **rule)


class Migration(migrations.Migration):
    dependencies = [("sensing", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
