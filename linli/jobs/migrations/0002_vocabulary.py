"""The job categories and skills a district starts with (linli/jobs/vocabulary.py); afterwards they
are data, edited in the admin. The same loader as ``services.vocabulary.ensure()``."""

from django.db import migrations


def load(apps, schema_editor):
    from linli.jobs.services.vocabulary import load as load_vocabulary

    load_vocabulary(apps.get_model("jobs", "JobCategory"), apps.get_model("jobs", "Skill"))


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
