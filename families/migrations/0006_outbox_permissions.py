"""The office sees what was sent (or waits to be) and can send again what failed."""

from django.db import migrations

from common.permissions import grant_permissions

GRANTS = {
    "Assistant administratif": {"common": {"outboxitem": ["view", "change"]}},
    "Régisseur": {"common": {"outboxitem": ["view", "change"]}},
}


def grant(apps, schema_editor):
    grant_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=GRANTS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="common"))


class Migration(migrations.Migration):
    dependencies = [
        ("families", "0005_child_pai_canteen_image_rights"),
        ("common", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
