"""The town's two régies and plausible tariff grids: shipped by a data migration (régies) and
by the demo, the bench and the tests (grids, for the school years they create). Idempotent:
rows that exist, which staff may have edited, are left as they are."""

TOWN_ADDRESS = "Hôtel de Ville\nPlace Hippolyte Peyron\n69160 Tassin la Demi-Lune"
PAYMENT_INSTRUCTIONS = (
    "Au guichet de la régie, Hôtel de Ville (du lundi au vendredi, 8h30-12h) : espèces ou "
    "chèque à l'ordre du Trésor Public\n"
    "Par courrier : chèque à l'ordre du Trésor Public, avec le numéro de facture au dos\n"
    "Par prélèvement automatique : demande depuis « Éducation - Enfance » du portail famille"
)

REGIES = [
    {
        "slug": "alai",
        "name": "Régie de recette accueil de loisirs d'ALAI (101005)",
        "code": "101005",
        "invoice_prefix": "ALAI",
        "position": 1,
        "regisseur_name": "Sophie DELORME",
        "activities": ["mercredi"],
    },
    {
        "slug": "periscolaire",
        "name": "Régie de recette périscolaire municipale",
        "code": "",
        "invoice_prefix": "PERI",
        "position": 2,
        "regisseur_name": "Paul GIRAUD",
        "activities": ["accueil-matin", "accueil-periscolaire"],
    },
]
COMMON = {
    "issuer": "Ville de Tassin la Demi-Lune",
    "address": TOWN_ADDRESS,
    "siret": "21690244000013",
    "phone": "04 78 66 94 00",
    "email": "regies@example.org",
    "payment_instructions": PAYMENT_INSTRUCTIONS,
    "issue_day": 10,
    "payment_delay_days": 30,
}

# Quotient familial brackets (in euros, lower bound included, upper bound excluded) and the
# unit price in cents of each créneau per bracket; then the walk-in surcharge.
BRACKET_BOUNDS = [0, 500, 800, 1200, 1600]
GRIDS = {
    "matin": ([110, 150, 200, 250, 300], 100),
    "soir-1": ([120, 160, 210, 260, 310], 100),
    "soir-2": ([100, 140, 180, 220, 260], 100),
    "mercredi": ([600, 900, 1250, 1600, 2000], 500),
}


def _registry(get_model):
    if get_model is None:
        from django.apps import apps

        get_model = apps.get_model
    return get_model


def ensure_regies(get_model=None) -> dict:
    """Create the missing régies and attach their activities (when the activity has no régie
    yet); returns {slug: régie}."""
    get_model = _registry(get_model)
    Regie = get_model("billing", "Regie")
    RegieActivity = get_model("billing", "RegieActivity")
    Activity = get_model("reservations", "Activity")
    regies = {}
    for spec in REGIES:
        defaults = {key: value for key, value in spec.items() if key not in {"slug", "activities"}}
        regie, _ = Regie.objects.get_or_create(slug=spec["slug"], defaults={**COMMON, **defaults})
        regies[spec["slug"]] = regie
        for activity in Activity.objects.filter(slug__in=spec["activities"]):
            RegieActivity.objects.get_or_create(activity=activity, defaults={"regie": regie})
    return regies


def ensure_tariffs(school_years, get_model=None) -> int:
    """Create the missing grids of every créneau in GRIDS for `school_years`; returns how many."""
    get_model = _registry(get_model)
    Slot = get_model("reservations", "Slot")
    Tariff = get_model("billing", "Tariff")
    TariffBracket = get_model("billing", "TariffBracket")
    created = 0
    for slot in Slot.objects.filter(code__in=GRIDS):
        prices, surcharge = GRIDS[slot.code]
        for school_year in school_years:
            tariff, new = Tariff.objects.get_or_create(
                slot=slot, school_year=school_year, defaults={"walk_in_surcharge_cents": surcharge}
            )
            if not new:
                continue
            created += 1
            highs = [*BRACKET_BOUNDS[1:], None]
            TariffBracket.objects.bulk_create(
                TariffBracket(tariff=tariff, qf_min=low, qf_max=high, unit_price_cents=price)
                for low, high, price in zip(BRACKET_BOUNDS, highs, prices, strict=True)
            )
    return created


def ensure_billing_reference(school_years) -> dict:
    """Régies, their activities and the grids of `school_years` (demo, bench, tests)."""
    from reservations.reference import ensure_reference_data

    ensure_reference_data()
    regies = ensure_regies()
    ensure_tariffs(school_years)
    return regies


# SEPA creditor details of the demo (valid check digits; the accounts are the Trésor Public's,
# where a régie's money is kept). A real town enters its own in the admin.
DEMO_CREDITORS = {
    "periscolaire": {
        "creditor_ics": "FR72ZZZ123456",
        "creditor_iban": "FR7610071690000000200123464",
        "creditor_bic": "TRPUFRP1",
    },
    "alai": {
        "creditor_ics": "FR97ZZZ543210",
        "creditor_iban": "FR7610071690000000200567821",
        "creditor_bic": "TRPUFRP1",
    },
}


def ensure_demo_creditors() -> None:
    """Give the demo régies their SEPA creditor details where none is set yet."""
    from common import refcache

    from .invoicing import REFERENCE
    from .models import Regie

    for regie in Regie.objects.filter(slug__in=DEMO_CREDITORS):
        blanks = {
            field: value
            for field, value in DEMO_CREDITORS[regie.slug].items()
            if not getattr(regie, field)
        }
        if blanks:
            Regie.objects.filter(pk=regie.pk).update(**blanks)
            refcache.invalidate(REFERENCE)  # the cached régies; update() sends no signal
