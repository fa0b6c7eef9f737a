from django.db import migrations

from common.permissions import grant_permissions

SERVICES = [
    {"slug": "periscolaire", "label": "Périscolaire", "min_age": None, "max_age": None},
    {"slug": "alai", "label": "Accueil de loisirs d'Alaï (3-12 ans)", "min_age": 3, "max_age": 12},
]

DOCUMENT_TYPES = [
    {
        "slug": "attestation-caf",
        "name": "Attestation CAF (quotient familial)",
        "description": "Attestation de paiement ou de quotient familial de moins de 3 mois.",
    },
    {
        "slug": "justificatif-domicile",
        "name": "Justificatif de domicile",
        "description": "Facture d'énergie, de téléphone ou quittance de loyer de moins de 3 mois.",
    },
    {
        "slug": "jugement-garde",
        "name": "Jugement de garde",
        "description": "Le jugement qui fixe la garde de l'enfant, lorsque la garde est partagée.",
    },
    {
        "slug": "vaccinations",
        "name": "Carnet de vaccinations",
        "description": "Les pages des vaccinations du carnet de santé.",
    },
    {
        "slug": "assurance",
        "name": "Attestation d'assurance extrascolaire",
        "description": "Responsabilité civile et individuelle accident pour l'année scolaire.",
    },
    {
        "slug": "pai",
        "name": "Projet d'accueil individualisé (PAI)",
        "description": "Le PAI signé par le médecin, si votre enfant en a un.",
    },
    {
        "slug": "rib",
        "name": "Relevé d'identité bancaire (RIB)",
        "description": "Le RIB du compte à prélever, au nom d'un responsable légal.",
    },
]

GRANTS = {
    "Assistant administratif": {
        "enrolment": {
            "service": ["view"],
            "documenttype": ["view", "add", "change"],
            "teleservice": ["view", "add", "change"],
            "teleservicedocument": ["view", "add", "change", "delete"],
            "enrolmentrequest": ["view", "change"],
            "requestdocument": ["view", "change"],
            "requestevent": ["view"],
            "historicalenrolmentrequest": ["view"],
            "enrolment": ["view"],
        },
    },
    "Régisseur": {
        "enrolment": {
            "service": ["view"],
            "teleservice": ["view"],
            "enrolmentrequest": ["view"],
            "enrolment": ["view"],
        },
    },
    "Animateur": {
        "enrolment": {"service": ["view"], "enrolment": ["view"]},
    },
}


def seed(apps, schema_editor):
    Service = apps.get_model("enrolment", "Service")
    DocumentType = apps.get_model("enrolment", "DocumentType")
    for row in SERVICES:
        Service.objects.update_or_create(slug=row["slug"], defaults=row)
    for row in DOCUMENT_TYPES:
        DocumentType.objects.get_or_create(slug=row["slug"], defaults=row)
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("enrolment", "0001_initial"), ("families", "0002_staff_groups")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
