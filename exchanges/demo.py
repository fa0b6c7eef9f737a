"""Demo threads: some read, some waiting for the family, some waiting for the office."""

import datetime

from django.utils import timezone

from .models import Message, Thread
from .services import message_post, thread_start


def _at(today: datetime.date, days_ago: int, hour: int = 10):
    return timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=days_ago), datetime.time(hour))
    )


def seed_threads(family, today: datetime.date, *, guardian_user, conversations):
    """Create the family's demo threads once (skipped when the family has threads already)."""
    if Thread.objects.for_family(family).exists():
        return
    for days_ago, subject, teleservice, lines, read_by_family in conversations:
        side, body = lines[0]
        thread = thread_start(
            family=family,
            subject=subject,
            body=body,
            side=side,
            author=guardian_user if side == Message.Side.FAMILY else None,
        )
        for side, body in lines[1:]:
            message_post(
                thread=thread,
                side=side,
                body=body,
                author=guardian_user if side == Message.Side.FAMILY else None,
            )
        when = _at(today, days_ago)
        Message.objects.filter(thread=thread).update(created_at=when)
        Thread.objects.filter(pk=thread.pk).update(
            created_at=when,
            last_message_at=when,
            teleservice=teleservice,
            family_unread=not read_by_family and lines[-1][0] == Message.Side.OFFICE,
        )


OFFICE, FAMILY = Message.Side.OFFICE, Message.Side.FAMILY

LAGRANGE_THREADS = [
    (
        40,
        "Bienvenue sur le portail famille",
        "",
        [
            (
                OFFICE,
                "Bonjour, votre dossier famille est créé. Vous pouvez désormais inscrire vos enfants et réserver "
                "leurs créneaux depuis l'agenda.",
            ),
        ],
        True,
    ),
    (
        12,
        "Attestation CAF à mettre à jour",
        "Première étape - Réaliser l'inscription périscolaire",
        [
            (
                OFFICE,
                "Bonjour, l'attestation CAF transmise date de plus de trois mois. Merci d'en déposer une récente "
                "pour que votre quotient familial soit appliqué.",
            ),
            (
                FAMILY,
                "Bonjour, je la télécharge ce soir sur le site de la CAF et je vous l'envoie. Merci !",
            ),
        ],
        True,
    ),
    (
        3,
        "Fermeture de l'accueil du soir le vendredi 18 décembre",
        "",
        [
            (
                OFFICE,
                "Bonjour, en raison de la fête de fin d'année de l'école, l'accueil du soir fermera à 17h30 le "
                "vendredi 18 décembre. Merci de votre compréhension.",
            ),
        ],
        False,
    ),
    (
        1,
        "Question sur les horaires du matin",
        "",
        [
            (
                FAMILY,
                "Bonjour, Léa peut-elle arriver à 08h15 le jeudi ? Nous avons un rendez-vous ce jour-là.",
            ),
            (
                OFFICE,
                "Bonjour, les enfants sont admis jusqu'à 08h10, dernier délai. Pensez à prévenir l'équipe "
                "d'animation si Léa arrive directement à l'école.",
            ),
        ],
        False,
    ),
]

VOISIN_THREADS = [
    (
        20,
        "Justificatif de domicile",
        "Première étape - Réaliser l'inscription périscolaire",
        [
            (
                OFFICE,
                "Bonjour, le justificatif de domicile déposé est illisible. Pourriez-vous en déposer un nouveau ?",
            ),
        ],
        False,
    ),
    (
        5,
        "Changement d'adresse",
        "",
        [
            (
                FAMILY,
                "Bonjour, nous avons déménagé le mois dernier, je viens de mettre à jour l'adresse du foyer.",
            ),
        ],
        True,
    ),
]
