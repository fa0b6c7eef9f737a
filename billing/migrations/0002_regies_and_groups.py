"""The town's two régies with their activities, and what each staff group may do."""

from django.db import migrations

from billing.reference import ensure_regies
from common.permissions import grant_permissions
from reservations.reference import ensure_reference_data

GRANTS = {
    "Régisseur": {
        "billing": {
            "regie": ["view", "change", "run_invoicing", "view_journal"],
            "regieactivity": ["view", "add", "change", "delete"],
            "tariff": ["view", "add", "change", "delete"],
            "tariffbracket": ["view", "add", "change", "delete"],
            "invoicingrun": ["view"],
            "invoice": ["view"],
            "historicalinvoice": ["view"],
            "invoiceline": ["view"],
            "payment": ["view", "add", "record_payment"],
            "paymentallocation": ["view"],
            "creditnote": ["view", "cancel_invoice"],
        },
    },
    "Assistant administratif": {
        "billing": {
            "regie": ["view"],
            "tariff": ["view"],
            "tariffbracket": ["view"],
            "invoicingrun": ["view"],
            "invoice": ["view"],
            "invoiceline": ["view"],
            "payment": ["view"],
            "creditnote": ["view"],
        },
    },
}


def seed(apps, schema_editor):
    ensure_reference_data(apps.get_model)
    ensure_regies(apps.get_model)
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("reservations", "0002_reference_data_and_groups"),
        ("families", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
