from django.db import migrations

from common.permissions import grant_permissions

GRANTS = {
    "Assistant administratif": {
        "exchanges": {
            "thread": ["view", "add", "change"],
            "message": ["view"],
            "attachment": ["view"],
        },
    },
    "Régisseur": {
        "exchanges": {
            "thread": ["view", "add", "change"],
            "message": ["view"],
            "attachment": ["view"],
        },
    },
}


def grant(apps, schema_editor):
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("exchanges", "0001_initial"), ("families", "0002_staff_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
