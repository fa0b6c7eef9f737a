"""Staff rights on the invitations, the guardians' history and the login lockouts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Assistant administratif": [
        ("families", "view_guardianinvitation"),
        ("families", "change_guardianinvitation"),  # the "revoke" action
        ("families", "view_guardianevent"),
        # Unlocking a parent locked out by too many failed logins: delete the attempt.
        ("axes", "view_accessattempt"),
        ("axes", "delete_accessattempt"),
    ],
    "Régisseur": [("families", "view_guardianevent")],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for app_label, codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group = Group.objects.filter(name=group_name).first()
        if group:
            for app_label, codename in codenames:
                group.permissions.remove(
                    *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
                )


class Migration(migrations.Migration):
    dependencies = [
        ("families", "0003_guardianinvitation_guardianevent"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
