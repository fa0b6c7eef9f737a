"""The day panel: "Horaires disponibles pour le …", ENREGISTRER, the booking detail and
"Supprimer" — and the server refusing whatever the page would not have offered."""

import datetime
import logging

import pytest
from django.urls import reverse

from reservations import services
from reservations.models import Booking, CapacityOverride
from tests.factories import GuardianFactory
from tests.reservations.conftest import MONDAY, TUESDAY_PAST_DEADLINE, make_family

D = datetime.date


def _url(child, day):
    return reverse("reservations:day", args=[child.pk, day])


def _post(
    client, child, day, *, shown, rendered=(), editable=None, ticked=(), htmx=False, confirm=False
):
    """Submit the panel as a browser would: hidden state + the ticked boxes (+ the removal's
    confirmation, the second step)."""
    ids = lambda slots: [str(s.pk) for s in slots]  # noqa: E731
    data = {
        "affiches": ids(shown),
        "reserves": ids(rendered),
        "modifiables": ids(shown if editable is None else editable),
        "creneau": ids(ticked),
    }
    if confirm:
        data["confirmer"] = "1"
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(_url(child, day), data, **headers)


@pytest.fixture
def periscolaire(slots):
    return [slots["matin"], slots["soir-1"], slots["soir-2"]]


def test_panel_lists_the_day_creneaux(client, parent, child, today):
    """The tutorial's panel: title, the three créneaux with their hours, ENREGISTRER."""
    client.force_login(parent)
    html = client.get(_url(child, MONDAY)).content.decode()
    assert "Horaires disponibles pour le 07/12/2026" in html
    for label in ("Matin 07h20-08h20", "soir 1 : 16h30 à 17h30", "soir 2 : 17h30 à 18h30"):
        assert label in html
    assert "07:20 - 08:20" in html and "admis jusqu'à 08h10" in html
    assert "Enregistrer" in html and "disabled" not in html
    assert "<html" in html  # the plain page, without JavaScript


def test_panel_as_htmx_partial(client, parent, child, today):
    """With HX-Request, the panel comes alone, to be put into the month page."""
    client.force_login(parent)
    html = client.get(_url(child, MONDAY), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and "Horaires disponibles pour le 07/12/2026" in html


def test_book_two_creneaux_and_see_them_on_the_month(client, parent, child, periscolaire, today):
    """Ticking two boxes and saving books them; the month shows them."""
    client.force_login(parent)
    response = _post(client, child, MONDAY, shown=periscolaire, ticked=periscolaire[:2])

    assert response.status_code == 302
    assert response.url.endswith("/2026/12/#jour-2026-12-07")
    bookings = Booking.objects.active().filter(child=child, date=MONDAY)
    assert sorted(b.slot.code for b in bookings) == ["matin", "soir-1"]
    assert all(b.created_by == parent and b.origin == Booking.Origin.PARENT for b in bookings)
    month = client.get(response.url).content.decode()
    assert "Réservé le 07/12/2026 : Matin 07h20-08h20, soir 1 : 16h30 à 17h30." in month


def test_htmx_save_answers_the_panel_and_the_day_cell(client, parent, child, periscolaire, today):
    """With htmx the answer is the updated panel plus the month's cell (out-of-band swap)."""
    client.force_login(parent)
    html = _post(
        client, child, MONDAY, shown=periscolaire, ticked=[periscolaire[0]], htmx=True
    ).content.decode()
    assert "Réservé : Matin 07h20-08h20." in html
    assert 'id="jour-2026-12-07"' in html and 'data-hx-swap-oob="true"' in html
    assert "checked" in html


def test_unticking_asks_before_deleting(client, parent, child, periscolaire, today):
    """Unticking a booked créneau and saving first says what will be removed, with a
    destructive « Confirmer la suppression »; nothing is deleted until it is pressed."""
    for slot in periscolaire[:2]:
        Booking.objects.create(child=child, slot=slot, date=MONDAY, school=child.school)
    client.force_login(parent)
    args = {"shown": periscolaire, "rendered": periscolaire[:2], "ticked": [periscolaire[1]]}
    response = _post(client, child, MONDAY, **args)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "Vous allez supprimer : Matin 07h20-08h20 (lundi 7 décembre)." in html
    assert "Confirmer la suppression ?" in html
    assert (
        'class="btn btn-danger"><i class="bi bi-trash" aria-hidden="true"></i> Confirmer la suppression'
        in html
    )
    assert 'name="confirmer" value="1"' in html and "data-hx-post" not in html
    assert Booking.objects.active().count() == 2

    response = _post(client, child, MONDAY, confirm=True, **args)
    assert response.status_code == 302
    assert [b.slot.code for b in Booking.objects.active()] == ["soir-1"]
    cancelled = Booking.objects.get(status=Booking.Status.CANCELLED)
    assert cancelled.cancelled_by == parent and cancelled.slot.code == "matin"
    month = client.get(response.url).content.decode()
    assert "Supprimé le 07/12/2026 : Matin 07h20-08h20." in month


def test_removal_confirmation_in_the_panel(client, parent, child, periscolaire, today):
    """In the month page's panel the confirmation replaces the panel and posts back to it;
    a booking ticked at the same time is named too and waits for the confirmation."""
    Booking.objects.create(child=child, slot=periscolaire[0], date=MONDAY, school=child.school)
    client.force_login(parent)
    args = {"shown": periscolaire, "rendered": [periscolaire[0]], "ticked": [periscolaire[2]]}
    html = _post(client, child, MONDAY, htmx=True, **args).content.decode()
    assert "<html" not in html and "Vous allez supprimer : Matin 07h20-08h20" in html
    assert "Et réserver : soir 2 : 17h30 à 18h30." in html
    assert 'data-hx-post="/agenda/' in html and 'data-hx-target="#panneau-jour"' in html
    assert [b.slot.code for b in Booking.objects.active()] == ["matin"]

    html = _post(client, child, MONDAY, htmx=True, confirm=True, **args).content.decode()
    assert "Supprimé : Matin 07h20-08h20." in html and "Réservé : soir 2" in html
    assert [b.slot.code for b in Booking.objects.active()] == ["soir-2"]


def test_full_pages_carry_no_htmx_target(client, parent, child, slots, today):
    """The day and booking pages opened by their address (no panel on the page) post plain
    forms: no data-hx-* attribute points at a #panneau-jour that is not there."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=MONDAY, school=child.school
    )
    client.force_login(parent)
    for url in (
        _url(child, MONDAY),
        reverse("reservations:booking_detail", args=[booking.pk]),
        reverse("reservations:booking_delete", args=[booking.pk]),
    ):
        html = client.get(url).content.decode()
        assert "<html" in html and "data-hx-" not in html.split("<main")[1], url
    panel = client.get(_url(child, MONDAY), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="panneau-jour")
    assert 'data-hx-target="#panneau-jour"' in panel.content.decode()
    assert "HX-Request" in panel["Vary"]


def test_htmx_request_from_elsewhere_gets_the_whole_page(client, parent, child, today):
    """An htmx request aimed at another target than the panel gets the whole page."""
    client.force_login(parent)
    html = client.get(
        _url(child, MONDAY), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ailleurs"
    ).content.decode()
    assert "<html" in html and "data-hx-target" not in html.split("<main")[1]


def test_full_page_delete_asks_then_deletes(client, parent, child, slots, today):
    """From the booking page: « Supprimer » opens the confirmation page, whose destructive
    button cancels the booking and leads to the agenda with the confirmation."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=MONDAY, school=child.school
    )
    client.force_login(parent)
    detail = client.get(reverse("reservations:booking_detail", args=[booking.pk])).content.decode()
    delete_url = reverse("reservations:booking_delete", args=[booking.pk])
    assert f'class="btn btn-outline-danger btn-sm" href="{delete_url}"' in detail
    assert "Voir la journée" in detail and f'href="{_url(child, MONDAY)}"' in detail

    page = client.get(delete_url).content.decode()
    assert "Vous allez supprimer : Matin 07h20-08h20 (lundi 7 décembre)." in page
    assert "Confirmer la suppression" in page
    booking.refresh_from_db()
    assert booking.is_active

    response = client.post(delete_url, follow=True)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert response.redirect_chain[-1][0].endswith("/2026/12/#jour-2026-12-07")
    assert f"La réservation n° {booking.number}" in response.content.decode()


def test_delete_confirmation_in_the_panel(client, parent, child, slots, today):
    """In the panel, « Supprimer » brings the confirmation into the panel."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=MONDAY, school=child.school
    )
    client.force_login(parent)
    html = client.get(
        reverse("reservations:booking_delete", args=[booking.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in html and "Confirmer la suppression" in html
    assert 'data-hx-post="/agenda/reservations/' in html


def test_only_toggled_creneaux_change(client, parent, child, periscolaire, today):
    """A créneau shown booked and left ticked is untouched (not cancelled and re-created)."""
    booking = Booking.objects.create(
        child=child, slot=periscolaire[0], date=MONDAY, school=child.school
    )
    client.force_login(parent)
    _post(
        client,
        child,
        MONDAY,
        shown=periscolaire,
        rendered=[periscolaire[0]],
        ticked=periscolaire[:2],
    )
    booking.refresh_from_db()
    assert booking.is_active
    assert Booking.objects.active().count() == 2


def test_booking_detail_and_delete(client, parent, child, slots, today):
    """The detail shows the tutorial's columns and "Supprimer", which cancels the booking."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=MONDAY, school=child.school
    )
    client.force_login(parent)
    html = client.get(reverse("reservations:booking_detail", args=[booking.pk])).content.decode()
    assert "Accueil du matin : Matin 07h20-08h20" in html
    assert "Le 07/12/2026 de 07:20 à 08:20" in html
    for label in (
        "Numéro",
        "Téléservice",
        "Personne concernée",
        "Créneau horaire",
        "Présence",
        "Statut de la réservation",
    ):
        assert label in html
    assert (
        "LAGRANGE Léa" in html and "Réservé" in html and "Validée" in html and "Supprimer" in html
    )

    confirm = client.get(reverse("reservations:booking_delete", args=[booking.pk]))
    assert confirm.status_code == 200 and "Supprimer la réservation" in confirm.content.decode()
    response = client.post(reverse("reservations:booking_delete", args=[booking.pk]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_htmx_delete_answers_the_day_panel(client, parent, child, slots, today):
    """Supprimer from the panel answers the refreshed day panel."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=MONDAY, school=child.school
    )
    client.force_login(parent)
    html = client.post(
        reverse("reservations:booking_delete", args=[booking.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert (
        "Supprimé : Matin 07h20-08h20." in html
        and "Horaires disponibles pour le 07/12/2026" in html
    )


def test_past_deadline_day_is_shown_disabled_and_explained(client, parent, child, slots, today):
    """On Thursday 26/11, Tuesday 01/12 cannot be changed (it could until Wednesday 25/11)."""
    Booking.objects.create(
        child=child, slot=slots["matin"], date=TUESDAY_PAST_DEADLINE, school=child.school
    )
    client.force_login(parent)
    html = client.get(_url(child, TUESDAY_PAST_DEADLINE)).content.decode()
    assert html.count("disabled") == 3
    assert "Non réservable" in html and "jusqu'au mercredi 25/11/2026" in html
    assert "Signaler une absence" in html
    assert ">Enregistrer<" not in html
    detail = client.get(
        reverse("reservations:booking_detail", args=[Booking.objects.get().pk])
    ).content.decode()
    assert (
        "Suppression impossible" in detail
        and "booking_delete" not in detail
        and "/supprimer/" not in detail
    )


def test_forged_post_past_the_deadline_changes_nothing_and_is_logged(
    client, parent, child, periscolaire, today, caplog
):
    """A hand-made POST claiming the créneaux are editable past the deadline is refused, logged."""
    booked = Booking.objects.create(
        child=child, slot=periscolaire[0], date=TUESDAY_PAST_DEADLINE, school=child.school
    )
    client.force_login(parent)
    with caplog.at_level(logging.WARNING, logger="reservations.services"):
        response = _post(
            client,
            child,
            TUESDAY_PAST_DEADLINE,
            shown=periscolaire,
            rendered=[periscolaire[0]],
            ticked=periscolaire[1:],
            confirm=True,
        )
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.is_active and Booking.objects.count() == 1
    assert sum("Refused" in record.message for record in caplog.records) == 3
    assert "non modifié" in client.get(response.url).content.decode()


def test_forged_delete_past_the_deadline_is_refused(client, parent, child, slots, today):
    """POST Supprimer on a booking past the deadline changes nothing."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=TUESDAY_PAST_DEADLINE, school=child.school
    )
    client.force_login(parent)
    response = client.post(reverse("reservations:booking_delete", args=[booking.pk]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.is_active


def test_post_for_another_family_child_is_404(client, parent, child, periscolaire, school, today):
    """Booking another family's child is a 404 and creates nothing."""
    other = make_family("BERNARD", school, children=["Nina"]).children.get()
    client.force_login(parent)
    assert _post(client, other, MONDAY, shown=periscolaire, ticked=periscolaire).status_code == 404
    assert not Booking.objects.exists()


def test_not_enrolled_creneau_is_disabled_and_refused(client, slots, school_years, school, today):
    """Without an effective enrolment the boxes are disabled with the reason; a forged POST fails."""
    family = make_family("NOUVEAU", school, children=["Zoé"], enrolled=False)
    child = family.children.get()
    client.force_login(family.guardians.first().user)
    html = client.get(_url(child, MONDAY)).content.decode()
    assert "n&#x27;est pas inscrit(e) au service « Périscolaire »" in html
    _post(client, child, MONDAY, shown=[slots["matin"]], ticked=[slots["matin"]])
    assert not Booking.objects.exists()


def test_full_creneau_is_disabled_and_refused(client, parent, child, slots, school, today):
    """When the places are taken, the box says "Complet" and a forged POST books nothing."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=1)
    other = make_family("BERNARD", school, children=["Nina"]).children.get()
    Booking.objects.create(child=other, slot=slots["matin"], date=MONDAY, school=school)
    client.force_login(parent)
    assert "Complet" in client.get(_url(child, MONDAY)).content.decode()
    _post(client, child, MONDAY, shown=[slots["matin"]], ticked=[slots["matin"]])
    assert Booking.objects.active().filter(child=child).count() == 0


def test_closed_day_panel_says_why(client, parent, child, today):
    """A day of the school holidays says "Fermé" and the holiday's name."""
    client.force_login(parent)
    html = client.get(_url(child, D(2026, 12, 22))).content.decode()
    assert "Fermé" in html and "Vacances de Noël" in html and 'name="creneau"' not in html


def test_two_guardians_same_day_never_overwrite(client, child, family, periscolaire, today):
    """Guardian B books soir 1 while A's panel is open; A then ticks matin and soir 1: matin is
    booked, soir 1 is reported as already booked by the other guardian, not duplicated."""
    other_guardian = GuardianFactory(family=family).user
    client.force_login(other_guardian)
    _post(client, child, MONDAY, shown=periscolaire, ticked=[periscolaire[1]])

    client.force_login(family.guardians.order_by("pk").first().user)
    response = _post(client, child, MONDAY, shown=periscolaire, ticked=periscolaire[:2], htmx=True)

    html = response.content.decode()
    assert "déjà réservé entre-temps par un autre responsable" in html
    assert "Un autre responsable du foyer a modifié cette journée" in html
    assert sorted(b.slot.code for b in Booking.objects.active()) == ["matin", "soir-1"]
    assert Booking.objects.get(slot__code="soir-1").created_by == other_guardian


def test_other_guardian_change_on_another_creneau_is_kept(child, family, periscolaire, today):
    """A's save of matin keeps the soir 2 that B booked meanwhile, and tells A."""
    b = GuardianFactory(family=family).user
    services.day_save(
        child=child,
        day=MONDAY,
        wanted={periscolaire[2].pk},
        editable={s.pk for s in periscolaire},
        rendered=set(),
        shown={s.pk for s in periscolaire},
        by=b,
        today=today,
    )
    result = services.day_save(
        child=child,
        day=MONDAY,
        wanted={periscolaire[0].pk},
        editable={s.pk for s in periscolaire},
        rendered=set(),
        shown={s.pk for s in periscolaire},
        by=family.guardians.first().user,
        today=today,
    )
    assert result.changed_meanwhile and [s.code for s in result.created] == ["matin"]
    assert sorted(b.slot.code for b in Booking.objects.active()) == ["matin", "soir-2"]


def test_cancel_already_cancelled_by_other_guardian(child, family, periscolaire, today):
    """A unticks a créneau that B already deleted: nothing to do, and A is told."""
    booking = Booking.objects.create(
        child=child, slot=periscolaire[0], date=MONDAY, school=child.school
    )
    services.booking_cancel(booking=booking, by=GuardianFactory(family=family).user, today=today)
    result = services.day_save(
        child=child,
        day=MONDAY,
        wanted=set(),
        editable={periscolaire[0].pk},
        rendered={periscolaire[0].pk},
        shown={periscolaire[0].pk},
        by=family.guardians.first().user,
        today=today,
    )
    assert not result.cancelled and "déjà supprimé" in result.already[0][1]
    assert Booking.objects.filter(status=Booking.Status.CANCELLED).count() == 1


def test_a_stale_panel_with_an_unknown_creneau_is_a_form_error(client, parent, child, today):
    """A créneau id the day does not offer is refused with a French message."""
    client.force_login(parent)
    response = client.post(_url(child, MONDAY), {"affiches": ["999"], "creneau": ["999"]})
    assert response.status_code == 400
    assert "rechargez la page" in response.content.decode()
    assert not Booking.objects.exists()


def test_the_database_refuses_two_active_bookings_of_the_same_creneau(child, slots):
    """The partial unique constraint: one active booking per child, créneau and day."""
    from django.db import IntegrityError, transaction

    Booking.objects.create(child=child, slot=slots["matin"], date=MONDAY, school=child.school)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(child=child, slot=slots["matin"], date=MONDAY, school=child.school)
    Booking.objects.update(status=Booking.Status.CANCELLED)
    Booking.objects.create(child=child, slot=slots["matin"], date=MONDAY, school=child.school)
