"""Helpers for data migrations that give staff groups their permissions."""

from django.contrib.auth.management import create_permissions


def grant_permissions(apps, grants: dict):
    """`grants`: {group name: {app label: {model name: [codename prefix or full codename]}}}.

    "view" on model "thread" means "view_thread"; a codename containing "_" is taken as is."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, by_app in grants.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for app_label, by_model in by_app.items():
            for model, actions in by_model.items():
                for action in actions:
                    codename = action if "_" in action else f"{action}_{model}"
                    group.permissions.add(
                        Permission.objects.get(content_type__app_label=app_label, codename=codename)
                    )
