"""The parent navigation and home tiles.

Each entry names a URL pattern; an entry whose app is not installed yet (the name does not
resolve) is left out, so that no dead link or tile is ever shown. A badge names a function
`badge(request) -> int` that an app provides (e.g. the unread threads of Échanges).
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    icon: str
    description: str = ""
    badge: str = ""
    in_nav: bool = True
    needs_family: bool = True


ENTRIES = [
    Entry(
        "Éducation - Enfance",
        "enrolment:teleservice_list",
        "bi-mortarboard",
        "Inscriptions périscolaire et accueil de loisirs d'Alaï, prélèvement automatique.",
        in_nav=False,
    ),
    Entry(
        "Échanges",
        "exchanges:thread_list",
        "bi-chat-left-text",
        "Vos messages avec le pôle administratif.",
        badge="exchanges.selectors.unread_thread_count",
    ),
    Entry(
        "Paiements",
        "billing:regie_list",
        "bi-credit-card",
        "Soldes, factures, relevés et attestations.",
    ),
    Entry(
        "Agenda",
        "reservations:agenda",
        "bi-calendar-week",
        "Réserver ou supprimer des créneaux pour vos enfants.",
    ),
    Entry(
        "Mes demandes",
        "enrolment:request_list",
        "bi-folder2-open",
        "Suivre vos demandes et leurs justificatifs.",
    ),
    Entry(
        "Mon foyer",
        "families:family_detail",
        "bi-house-heart",
        "Vos coordonnées, vos enfants et les personnes autorisées.",
        needs_family=False,
    ),
    Entry(
        "Mon compte",
        "account_email",
        "bi-person-gear",
        "Adresse e-mail et mot de passe.",
        in_nav=False,
        needs_family=False,
    ),
]


def _url(name):
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def entries_for(request):
    """The entries available to the signed-in parent, with their URL and badge count."""
    result = []
    for entry in ENTRIES:
        url = _url(entry.url_name)
        if url is None or (entry.needs_family and not request.family):
            continue
        count = import_string(entry.badge)(request) if entry.badge else 0
        result.append(
            {"entry": entry, "url": url, "count": count, "active": request.path.startswith(url)}
        )
    return result
