"""Every admin action asks for a permission of its own: a staff member who may only read a list
cannot change its records through an action of that list."""

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from billing.card.models import PaymentIssue
from billing.directdebit.models import Mandate
from billing.models import Invoice
from enrolment.models import EnrolmentRequest
from reservations.models import Holiday
from tests.billing import fixtures as billing_fixtures
from tests.enrolment.fixtures import enrolment_objects, submitted_request
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _actions(model_admin):
    """(name, function) of each action the admin can offer, Django's "delete_selected" aside
    (it declares "delete" itself)."""
    names = [*dict(model_admin.admin_site.actions), *(model_admin.actions or [])]
    for action in names:
        func, name, _description = model_admin.get_action(action)
        if name != "delete_selected":
            yield name, func


def _staff(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_every_admin_action_declares_its_permission():
    """Each action of each registered admin declares `permissions=[…]`, so that Django
    offers and runs it only for the staff members who hold them."""
    offending = [
        f"{type(model_admin).__name__}.{name}"
        for model_admin in admin.site._registry.values()
        for name, func in _actions(model_admin)
        if not getattr(func, "allowed_permissions", None)
    ]

    assert not offending, f"Actions sans permission déclarée : {', '.join(offending)}"


@pytest.fixture
def issue(family_a):
    return PaymentIssue.objects.create(
        invoice=billing_fixtures.invoice(family_a),
        kind=PaymentIssue.Kind.AMOUNT_MISMATCH,
        amount_cents=2999,
        currency="eur",
        reference="pi_test_droits",
    )


def _mark_resolved(client, user, issue):
    client.force_login(user)
    return client.post(
        reverse("admin:billing_paymentissue_changelist"),
        {
            "action": "mark_resolved",
            ACTION_CHECKBOX_NAME: [issue.pk],
            "resolution": "Remboursé par Stripe.",
        },
    )


def test_an_assistant_who_only_reads_payment_issues_cannot_mark_one_handled(client, issue, today):
    """ "Assistant administratif" only reads payment issues: posting the action leaves the
    issue to handle (Django shows the list again), while a "Régisseur" marks it handled."""
    assistant = _staff("Assistant administratif")
    assert not assistant.has_perm("billing.change_paymentissue")

    refused = _mark_resolved(client, assistant, issue)

    assert refused.status_code == 200
    issue.refresh_from_db()
    assert issue.resolved_at is None and issue.resolution == ""

    regisseur = _staff("Régisseur")
    done = _mark_resolved(client, regisseur, issue)

    assert done.status_code == 302
    issue.refresh_from_db()
    assert issue.resolved_at is not None
    assert (issue.resolution, issue.resolved_by) == ("Remboursé par Stripe.", regisseur)


def _offered(model, user) -> set[str]:
    request = RequestFactory().get("/")
    request.user = user
    return set(admin.site._registry[model].get_actions(request))


def test_revoking_mandates_is_offered_to_who_may_change_them():
    """The mandate list is read-only, yet "Révoquer" is offered to the régisseur (who may
    change mandates) and not to an animateur."""
    assert "revoke" in _offered(Mandate, _staff("Régisseur"))
    assert "revoke" not in _offered(Mandate, _staff("Animateur"))


def test_loading_the_calendar_is_offered_to_who_may_add_holidays():
    """Loading the holidays adds periods: offered to the assistant (who adds them), not to the
    régisseur (who only reads them)."""
    assert "load_calendar" in _offered(Holiday, _staff("Assistant administratif"))
    assert "load_calendar" not in _offered(Holiday, _staff("Régisseur"))


# The permission table: who may run each admin action and open each custom admin view. A new
# action or view must be added here (the walks below fail until it is), with who may use it.
ASSISTANT, REGISSEUR, ANIMATEUR = "Assistant administratif", "Régisseur", "Animateur"
NOBODY: frozenset = frozenset()

ACTION_TABLE = {
    "account.emailaddress.make_verified": NOBODY,  # superusers only
    "axes.accessattempt.cleanup_expired_attempts": {ASSISTANT},
    "common.outboxitem.retry_now": {ASSISTANT, REGISSEUR},
    "families.guardian.detach": {ASSISTANT},
    "families.guardianinvitation.revoke": {ASSISTANT},
    "families.childhouseholdinvitation.revoke": {ASSISTANT},
    "reservations.holiday.load_calendar": {ASSISTANT},
    "reservations.booking.cancel_bookings": {ASSISTANT},
    "reservations.booking.mark_excused": {ASSISTANT},
    "reservations.absence.excuse": {ASSISTANT},
    "reservations.absence.refuse": {ASSISTANT},
    "reservations.waitlistentry.move_up": {ASSISTANT},
    "reservations.waitlistentry.move_down": {ASSISTANT},
    "billing.paymentissue.mark_resolved": {REGISSEUR},
    "billing.mandate.revoke": {ASSISTANT, REGISSEUR},
}

VIEW_TABLE = {
    "auth_user_password_change": NOBODY,
    "exchanges_attachment_download": {ASSISTANT, REGISSEUR},
    "enrolment_requestdocument_download": {ASSISTANT, REGISSEUR},
    "enrolment_requestdocument_preview": {ASSISTANT, REGISSEUR},
    "enrolment_requestdocument_decision": {ASSISTANT},
    "enrolment_enrolmentrequest_attach": {ASSISTANT},
    "enrolment_enrolmentrequest_accept": {ASSISTANT},
    "enrolment_enrolmentrequest_refuse": {ASSISTANT},
    "enrolment_enrolmentrequest_simple_history": {ASSISTANT, REGISSEUR},
    "reservations_occupancy": {ASSISTANT, REGISSEUR, ANIMATEUR},
    "reservations_absence_certificate": {ASSISTANT, REGISSEUR},
    "billing_mandate_simple_history": {ASSISTANT, REGISSEUR},
    "billing_sepabatch_export": {REGISSEUR},
    "billing_sepabatch_file": {REGISSEUR},
    "billing_debitrejection_record": {REGISSEUR},
    "billing_regie_run": {REGISSEUR},
    "billing_invoicingrun_launch": {REGISSEUR},
    "billing_regie_journal": {REGISSEUR},
    "billing_invoice_payment": {REGISSEUR},
    "billing_invoice_cancel": {REGISSEUR},
    "billing_invoice_reissue": {REGISSEUR},
    "billing_invoice_pdf": {ASSISTANT, REGISSEUR},
    "billing_invoice_recovery": {ASSISTANT, REGISSEUR},
    "billing_recoveryhandover_create": {REGISSEUR},
    "billing_recoveryhandover_csv": {ASSISTANT, REGISSEUR},
    "billing_recoveryhandover_pdf": {ASSISTANT, REGISSEUR},
    "billing_invoice_simple_history": {ASSISTANT, REGISSEUR},
}

# The admin site's own pages beside the models' (the dashboard's occupancy, the CAF figures).
SITE_VIEW_TABLE = {
    "occupancy": {ASSISTANT, REGISSEUR, ANIMATEUR},
    "occupancy_csv": {ASSISTANT, REGISSEUR, ANIMATEUR},
    "caf": {ASSISTANT, REGISSEUR},
    "caf_csv": {ASSISTANT, REGISSEUR},
}
# Django's own pages of the site, each with its own checks.
DJANGO_SITE_VIEWS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
}

MISSING = 999_999  # no such row: a view that checks the permission first refuses before looking


def _registered_actions():
    for model, model_admin in admin.site._registry.items():
        for name, _func in _actions(model_admin):
            yield f"{model._meta.label_lower}.{name}", model, name


def _custom_views(history_of=None):
    """(URL name, URL) of each view an admin adds to Django's five, for a row that does not
    exist; a version of history ("…_simple_history", whose view looks the row up before
    checking) is asked for a row of `history_of` that exists."""
    history_of = history_of or {}
    for model, model_admin in admin.site._registry.items():
        standard = {
            f"{model._meta.app_label}_{model._meta.model_name}_{view}"
            for view in ("changelist", "add", "history", "delete", "change")
        }
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None)
            if name and name not in standard and hasattr(pattern, "callback"):
                args = [MISSING] * pattern.pattern.regex.groups
                if name.endswith("_simple_history") and model in history_of:
                    row = history_of[model]
                    args = [row.pk, row.history.latest().history_id]
                yield name, reverse(f"admin:{name}", args=args)


def _people():
    nobody = UserFactory(is_staff=True)  # staff, without any permission
    return {None: nobody} | {group: _staff(group) for group in (ASSISTANT, REGISSEUR, ANIMATEUR)}


def test_the_permission_table_covers_every_action_and_custom_view():
    assert {key for key, _model, _name in _registered_actions()} == set(ACTION_TABLE)
    assert {name for name, _url in _custom_views()} == set(VIEW_TABLE)


def test_each_group_posting_each_action_gets_what_the_table_says(client):
    """Each staff group posts each action (on a row that does not exist: nothing to change):
    Django runs it only for those the table allows; the others get the list back, or, without
    access to the list at all, a 403."""
    people = _people()
    wrong = []
    for key, model, name in _registered_actions():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for group, user in people.items():
            client.force_login(user)
            response = client.post(url, {"action": name, ACTION_CHECKBOX_NAME: [MISSING]})
            # Refused: Django shows the list again (the action is not among the user's) or,
            # without access to the list, answers 403. Run: a redirect or the action's own page.
            refused = response.status_code == 403 or (
                response.status_code == 200
                and "admin/change_list.html" in [t.name for t in response.templates]
            )
            if refused == (group in ACTION_TABLE[key]):
                wrong.append(f"{key} / {group or 'sans droit'} : {response.status_code}")

    assert not wrong, "Actions contraires au tableau des droits :\n" + "\n".join(wrong)


def test_each_group_opening_each_custom_view_gets_what_the_table_says(client, family_a, today):
    """Each custom admin view checks its permission before anything else: a staff member the
    table does not allow gets 403 on a POST and nothing shown on a GET; one it allows gets past
    the check (here, to a 404 for the missing row, or the page itself)."""
    enrolment_objects(family_a)
    history_of = {
        Invoice: billing_fixtures.invoice(family_a),
        Mandate: billing_fixtures.mandate(family_a),
        EnrolmentRequest: submitted_request(family_a),
    }
    people = _people()
    wrong = []
    for name, url in _custom_views(history_of):
        for group, user in people.items():
            client.force_login(user)
            posted, read = client.post(url).status_code, client.get(url).status_code
            if group in VIEW_TABLE[name]:
                ok = posted != 403 and read != 403
            else:
                ok = posted == 403 and read in (403, 302, 405)
            if not ok:
                wrong.append(f"{name} / {group or 'sans droit'} : POST {posted}, GET {read}")

    assert not wrong, "Vues contraires au tableau des droits :\n" + "\n".join(wrong)


def _site_views():
    """(URL name, URL) of each page the admin site adds to Django's own."""
    for pattern in admin.site.get_urls():
        name = getattr(pattern, "name", None)
        if name and hasattr(pattern, "callback") and name not in DJANGO_SITE_VIEWS:
            yield name, reverse(f"admin:{name}")


def test_each_group_opening_each_site_page_gets_what_the_table_says(client):
    """The site's own pages are in the table, and each opens (200) only for the groups the
    table allows; the others get 403."""
    assert {name for name, _url in _site_views()} == set(SITE_VIEW_TABLE)
    wrong = []
    for name, url in _site_views():
        for group, user in _people().items():
            client.force_login(user)
            status = client.get(url).status_code
            if status != (200 if group in SITE_VIEW_TABLE[name] else 403):
                wrong.append(f"{name} / {group or 'sans droit'} : GET {status}")

    assert not wrong, "Pages contraires au tableau des droits :\n" + "\n".join(wrong)
