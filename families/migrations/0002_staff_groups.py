"""The three staff groups and what each may do in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Assistant administratif": {
        "families": {
            "family": ["view", "add", "change"],
            "guardian": ["view", "add", "change", "delete"],
            "child": ["view", "add", "change", "health_notes"],
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
            "child": ["view", "health_notes"],
            "childcontact": ["view"],
            "school": ["view"],
        },
    },
}


def codename(action, model):
    return "view_health_notes" if action == "health_notes" else f"{action}_{model}"


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, by_app in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for app_label, by_model in by_app.items():
            for model, actions in by_model.items():
                for action in actions:
                    permission = Permission.objects.get(
                        content_type__app_label=app_label, codename=codename(action, model)
                    )
                    group.permissions.add(permission)


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
