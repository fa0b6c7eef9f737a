"""The three staff groups and what each may do in the admin."""

from django.db import migrations

from common.permissions import grant_permissions

GROUPS = {
    "Assistant administratif": {
        "families": {
            "family": ["view", "add", "change"],
            "guardian": ["view", "add", "change", "delete"],
            "child": ["view", "add", "change", "view_health_notes"],
            "childcontact": ["view", "add", "change", "delete"],
            "school": ["view"],
            "schoolyear": ["view"],
        },
        "accounts": {"user": ["view"]},
        "portail": {"sitepage": ["view", "change"]},
    },
    "Régisseur": {
        "families": {
            "family": ["view", "change"],
            "guardian": ["view"],
            "child": ["view"],
            "school": ["view"],
            "schoolyear": ["view"],
        },
        "accounts": {"user": ["view"]},
    },
    "Animateur": {
        "families": {
            "child": ["view", "view_health_notes"],
            "childcontact": ["view"],
            "school": ["view"],
        },
    },
}


def create_groups(apps, schema_editor):
    grant_permissions(apps, GROUPS)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("families", "0001_initial"),
        ("accounts", "0001_initial"),
        ("portail", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
