"""Room for HOT updates on PostgreSQL (intake, docs/sensing.md "Intake: where the time goes").

Every batch of readings rewrites the rows of the devices, channels and rule states it touches
(last reading time, last value, rule state). A row that has no room on its page is written
elsewhere and then *every* index of the table gets a new entry (eleven on ``sensing_device``); with
free space on the page PostgreSQL makes a HOT update (no index touched, the old version pruned on
the page), since none of these columns is indexed. A fill factor below 100 keeps that space. It
applies to pages written from now on (a new install: all of them; an existing one after
``VACUUM FULL`` or ``pg_repack``). SQLite has no such setting: nothing to do there.
"""

from django.db import migrations

TABLES = {"sensing_device": 50, "sensing_channel": 50, "sensing_rulestate": 50}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, fill in TABLES.items():
        schema_editor.execute(f'ALTER TABLE "{table}" SET (fillfactor = {int(fill)})')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f'ALTER TABLE "{table}" RESET (fillfactor)')


class Migration(migrations.Migration):
    dependencies = [
        ("sensing", "0003_storage"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
