"""Direct debit (prélèvement automatique): the hooks of the "prelevement" request kind, SEPA
mandates, the debit date of programmed invoices, revocation by the family and rejections
recorded by the office. The batches and their pain.008 file live in `billing.sepa`.

A family asks for direct debit through an enrolment téléservice of kind "prelevement", mapped to
a régie by `DirectDebitTeleservice`. Filing and accepting are refused while the family still has
an invoice of that régie to settle (impayée or mise en recouvrement — a programmed debit is not a
debt to settle first) or already has an active mandate there. On acceptance a mandate is created
in the same transaction, and the full IBAN leaves the request's answers: the mandate holds it,
everything else shows it masked. From then on the family's invoices of that régie are issued
"prélèvement programmé", with a debit date at least DIRECT_DEBIT_NOTICE_DAYS after the day of
issue (the day the invoice e-mail goes out).
"""

import datetime
import functools
import logging

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from schwifty import BIC, IBAN
from schwifty import exceptions as iban_errors

from billing.card.models import PaymentIssue
from billing.models import Invoice, Payment, PaymentAllocation, Regie
from common import refcache
from common.bank import clean_bic, clean_iban, ics_is_valid, mask_iban
from common.emails import absolute_url
from common.money import format_cents
from enrolment import kinds
from enrolment.models import EnrolmentRequest, Teleservice
from exchanges.models import Message
from exchanges.services import notify_family, thread_start

from .models import DebitRejection, DirectDebitTeleservice, Mandate

logger = logging.getLogger(__name__)

# The régies that offer direct debit, in the cache (invalidated by BillingConfig.ready).
REFERENCE = "direct-debit"

KIND = Teleservice.Kind.PRELEVEMENT
# Invoices a family must settle before direct debit can start (a programmed debit is not one).
UNSETTLED_STATUSES = [Invoice.Status.UNPAID, Invoice.Status.RECOVERY]
# Common SEPA reason codes of a returned debit, as the office reads them on the bank's notice.
REJECTION_REASONS = {
    "AC01": "Numéro de compte incorrect",
    "AC04": "Compte clôturé",
    "AC06": "Compte bloqué",
    "AG01": "Prélèvement interdit sur ce compte",
    "AM04": "Provision insuffisante",
    "MD01": "Pas de mandat ou mandat invalide",
    "MD06": "Contestation du débiteur (remboursement demandé)",
    "MD07": "Débiteur décédé",
    "MS02": "Refus du débiteur",
    "MS03": "Motif non communiqué par la banque",
    "RR04": "Motif réglementaire",
    "SL01": "Service spécifique de la banque du débiteur",
}


# Dates ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _target_holidays(year: int) -> frozenset:
    return frozenset(holidays.financial_holidays("XECB", years=year))


def is_target_business_day(day: datetime.date) -> bool:
    """A day on which SEPA debits are settled: Monday to Friday, except the TARGET2 closing
    days (1 January, Good Friday, Easter Monday, 1 May, 25 and 26 December)."""
    return day.weekday() < 5 and day not in _target_holidays(day.year)


def next_target_business_day(day: datetime.date) -> datetime.date:
    """`day` if it is a TARGET business day, else the first one after it."""
    while not is_target_business_day(day):
        day += datetime.timedelta(days=1)
    return day


def debit_date_for(issue_date: datetime.date) -> datetime.date:
    """The debit date of an invoice issued (and e-mailed) on `issue_date`: the first TARGET
    business day at least DIRECT_DEBIT_NOTICE_DAYS later (the notice SEPA asks for)."""
    return next_target_business_day(
        issue_date + datetime.timedelta(days=settings.DIRECT_DEBIT_NOTICE_DAYS)
    )


# Creditor details -----------------------------------------------------------------------------


def creditor_problems(regie: Regie) -> list[str]:
    """What the régie lacks to collect by direct debit (its name, ICS, IBAN and BIC)."""
    problems = []
    if not regie.name.strip():
        problems.append("le nom")
    if not regie.creditor_ics:
        problems.append("l'identifiant créancier SEPA (ICS)")
    elif not ics_is_valid(regie.creditor_ics):
        problems.append("un identifiant créancier SEPA (ICS) valide")
    for field, label in (("creditor_iban", "l'IBAN"), ("creditor_bic", "le BIC")):
        if not getattr(regie, field):
            problems.append(label)
    if regie.creditor_iban:
        try:
            IBAN(regie.creditor_iban)
        except iban_errors.SchwiftyException:
            problems.append("un IBAN valide")
    if regie.creditor_bic:
        try:
            BIC(regie.creditor_bic)
        except iban_errors.SchwiftyException:
            problems.append("un BIC valide")
    return problems


def creditor_error(regie: Regie) -> ValidationError | None:
    problems = creditor_problems(regie)
    if not problems:
        return None
    return ValidationError(
        f"La {regie.name} n'a pas encore ses coordonnées de créancier SEPA (il manque "
        f"{', '.join(problems)}) : complétez la fiche de la régie avant d'activer un "
        "prélèvement.",
        code="creditor",
    )


# Who may ask -----------------------------------------------------------------------------------


def teleservice_regie(teleservice: Teleservice) -> Regie | None:
    """The régie a "Prélèvement automatique" téléservice files mandates for, if mapped."""
    link = (
        DirectDebitTeleservice.objects.select_related("regie")
        .filter(teleservice_id=teleservice.pk)
        .first()
    )
    return link.regie if link else None


def active_mandate(family, regie: Regie) -> Mandate | None:
    return Mandate.objects.filter(family=family, regie=regie, status=Mandate.Status.ACTIVE).first()


def active_mandates(regie: Regie, family_ids) -> dict[int, Mandate]:
    """{family id: active mandate} for the given families of `regie`, in one query (invoicing
    asks once per batch of families)."""
    return {
        mandate.family_id: mandate
        for mandate in Mandate.objects.filter(
            regie=regie, status=Mandate.Status.ACTIVE, family_id__in=list(family_ids)
        )
    }


def unsettled_invoices(family, regie: Regie) -> list[Invoice]:
    """The family's invoices of `regie` still to settle: impayée or mise en recouvrement."""
    return list(
        Invoice.objects.for_family(family)
        .filter(regie=regie, status__in=UNSETTLED_STATUSES)
        .with_paid()
        .order_by("period_start", "number")
    )


def offers_direct_debit(regie: Regie) -> bool:
    """Whether the régie offers direct debit at all: a "Prélèvement automatique" téléservice
    files mandates for it (open now or not). A régie without one shows no direct-debit page."""
    return regie.pk in refcache.reference(REFERENCE, "regies", _regies_offering_direct_debit)


def _regies_offering_direct_debit() -> frozenset[int]:
    return frozenset(DirectDebitTeleservice.objects.values_list("regie_id", flat=True))


def held_reasons(enrolment_requests) -> dict[int, kinds.Hold]:
    """The `held_reasons` hook of the "prelevement" kind: each request « en traitement » whose
    family still has invoices of its régie to settle waits for them (two queries at most)."""
    submitted = [
        enrolment_request
        for enrolment_request in enrolment_requests
        if enrolment_request.state == EnrolmentRequest.State.SUBMITTED
    ]
    if not submitted:
        return {}
    regie_of = dict(
        DirectDebitTeleservice.objects.filter(
            teleservice_id__in={item.teleservice_id for item in submitted}
        ).values_list("teleservice_id", "regie_id")
    )
    pairs = {
        (item.family_id, regie_of[item.teleservice_id])
        for item in submitted
        if item.teleservice_id in regie_of
    }
    if not pairs:
        return {}
    unsettled: dict[tuple[int, int], list[Invoice]] = {}
    for invoice in (
        Invoice.objects.filter(
            family_id__in={family_id for family_id, _ in pairs},
            regie_id__in={regie_id for _, regie_id in pairs},
            status__in=UNSETTLED_STATUSES,
        )
        .only("pk", "number", "status", "family_id", "regie_id", "period_start")
        .order_by("period_start", "number")
    ):
        unsettled.setdefault((invoice.family_id, invoice.regie_id), []).append(invoice)
    reasons = {}
    for item in submitted:
        invoices = unsettled.get((item.family_id, regie_of.get(item.teleservice_id)))
        if invoices:
            reasons[item.pk] = unsettled_hold(invoices)
    return reasons


def unsettled_hold(invoices: list[Invoice]) -> kinds.Hold:
    """« En attente : 2 factures impayées à régler avant la mise en place du prélèvement
    (PERI2026000012, …) », with a link to each invoice."""
    unpaid = sum(1 for invoice in invoices if not invoice.in_recovery)
    recovery = len(invoices) - unpaid
    counts = []
    if unpaid:
        counts.append(
            f"{unpaid} facture{'s' if unpaid > 1 else ''} impayée{'s' if unpaid > 1 else ''}"
        )
    if recovery:
        plural = "s" if recovery > 1 else ""
        counts.append(f"{recovery} facture{plural} mise{plural} en recouvrement")
    numbers = ", ".join(invoice.number for invoice in invoices)
    text = (
        f"En attente : {' et '.join(counts)} à régler avant la mise en place du prélèvement "
        f"({numbers})."
    )
    if recovery:
        text += " Une facture mise en recouvrement se règle auprès du Trésor Public."
    links = tuple(
        (f"Facture n° {invoice.number}", invoice.get_parent_url()) for invoice in invoices
    )
    return kinds.Hold(text=text, links=links)


def unsettled_message(invoices: list[Invoice], regie: Regie) -> str:
    """Why direct debit cannot start yet, naming each invoice to settle."""
    parts = []
    for invoice in invoices:
        if invoice.in_recovery:
            how = "mise en recouvrement : à régler auprès du Trésor Public"
        else:
            how = f"impayée, à régler avant le {invoice.due_date:%d/%m/%Y}"
        parts.append(f"facture n° {invoice.number} ({format_cents(invoice.due_cents())}, {how})")
    return (
        "Le prélèvement automatique ne peut s'activer que lorsque toutes les factures impayées "
        f"de la {regie.name} ont été réglées. Réglez d'abord : {' ; '.join(parts)}."
    )


def check_can_activate(*, family, regie: Regie) -> None:
    """ValidationError when `family` may not start direct debit with `regie` now: an invoice
    still to settle there, or a mandate already active."""
    invoices = unsettled_invoices(family, regie)
    if invoices:
        raise ValidationError(unsettled_message(invoices, regie), code="unsettled")
    mandate = active_mandate(family, regie)
    if mandate is not None:
        raise ValidationError(
            f"Un mandat de prélèvement est déjà actif pour la {regie.name} (référence "
            f"{mandate.rum}, compte {mandate.masked_iban}). Pour changer de compte, écrivez au "
            "pôle administratif depuis « Échanges ».",
            code="active_mandate",
        )


# Hooks of the "prelevement" request kind -----------------------------------------------------


def validate_submission(enrolment_request: EnrolmentRequest) -> None:
    """Before a direct-debit request is sent (and again when the office accepts it): the family
    may start direct debit with the téléservice's régie, and the bank details are valid."""
    regie = teleservice_regie(enrolment_request.teleservice)
    if regie is None:
        return  # nothing to check against yet: the office maps it before accepting (on_accept)
    answers = enrolment_request.answers or {}
    errors = {}
    iban = ""
    if answers.get("iban"):
        try:
            iban = clean_iban(answers["iban"])
        except ValidationError as exc:
            errors["iban"] = exc.messages
    if answers.get("bic") and "iban" not in errors:
        try:
            clean_bic(answers["bic"], iban=iban)
        except ValidationError as exc:
            errors["bic"] = exc.messages
    if errors:
        raise ValidationError(errors)
    check_can_activate(family=enrolment_request.family, regie=regie)


def on_accept(enrolment_request: EnrolmentRequest, *, user, today: datetime.date) -> Mandate:
    """The office accepts a direct-debit request: the mandate is created in the same
    transaction (a ValidationError cancels the acceptance)."""
    regie = teleservice_regie(enrolment_request.teleservice)
    if regie is None:
        raise ValidationError(
            f"Le téléservice « {enrolment_request.teleservice.label} » n'est rattaché à aucune régie : "
            "rattachez-le dans « Facturation › Téléservices de prélèvement » avant d'accepter "
            "la demande.",
            code="unmapped",
        )
    return mandate_create(enrolment_request=enrolment_request, regie=regie, user=user, today=today)


def register_hooks() -> None:
    """Billing's part of the "prelevement" request kind (called from BillingConfig.ready)."""
    kinds.register_hook(KIND, "validate_submission", validate_submission)
    kinds.register_hook(KIND, "on_accept", on_accept)
    kinds.register_hook(KIND, "held_reasons", held_reasons)


# Mandates --------------------------------------------------------------------------------------


def next_rum(regie: Regie, family) -> str:
    """<PREFIX>-<family id>-<n>: the n-th mandate of the family for the régie (≤ 35 characters
    from the SEPA set)."""
    rank = Mandate.objects.filter(regie=regie, family=family).count() + 1
    return f"{regie.invoice_prefix}-{family.pk}-{rank}"


@transaction.atomic
def mandate_create(
    *, enrolment_request: EnrolmentRequest, regie: Regie, user=None, today: datetime.date
) -> Mandate:
    """The mandate of an accepted direct-debit request: a new RUM, the régie's ICS, signed on
    the day the request was sent (or today), first sequence FRST; the full IBAN then leaves
    the request's answers (only its masked form stays there). Refused while the régie lacks its
    creditor details or the family may not start direct debit."""
    regie = Regie.objects.select_for_update().get(pk=regie.pk)
    error = creditor_error(regie)
    if error is not None:
        raise error
    check_can_activate(family=enrolment_request.family, regie=regie)
    answers = dict(enrolment_request.answers or {})
    holder, iban, bic = _bank_details(answers)
    submitted = enrolment_request.submitted_at
    signed_on = timezone.localdate(submitted) if submitted else today
    try:
        with transaction.atomic():
            mandate = Mandate.objects.create(
                family=enrolment_request.family,
                regie=regie,
                rum=next_rum(regie, enrolment_request.family),
                creditor_ics=regie.creditor_ics.replace(" ", "").upper(),
                account_holder=holder[:120],
                iban=iban,
                bic=bic,
                signed_on=signed_on,
                sequence=Mandate.Sequence.FIRST,
                request=enrolment_request,
            )
    except IntegrityError:  # a concurrent acceptance for the same family and régie won
        raise ValidationError(
            f"Ce foyer a déjà un mandat de prélèvement actif pour la {regie.name}."
        ) from None
    answers["iban"] = mask_iban(iban)
    EnrolmentRequest.objects.filter(pk=enrolment_request.pk).update(answers=answers)
    enrolment_request.answers = answers
    notify_family(
        family=enrolment_request.family,
        subject=f"Votre prélèvement automatique est actif : mandat {mandate.rum}",
        body=render_to_string(
            "billing/messages/mandate_created.txt",
            {
                "mandate": mandate,
                "regie": regie,
                "notice_days": settings.DIRECT_DEBIT_NOTICE_DAYS,
                "url": absolute_url(mandate_page_path(regie)),
            },
        ).strip(),
        related=enrolment_request,
    )
    logger.info(
        "Mandat %s créé (foyer %s, régie %s)", mandate.rum, enrolment_request.family_id, regie.slug
    )
    return mandate


def _bank_details(answers: dict) -> tuple[str, str, str]:
    """The account holder, IBAN and BIC of a request's answers, checked and normalised;
    ValidationError in French otherwise."""
    holder = " ".join(str(answers.get("account_holder") or "").split())
    if not holder:
        raise ValidationError("La demande n'indique pas le titulaire du compte.")
    try:
        iban = clean_iban(answers.get("iban", ""))
        bic = clean_bic(answers.get("bic", ""), iban=iban)
    except ValidationError as exc:
        raise ValidationError(
            f"Les coordonnées bancaires de la demande ne sont pas valides : {' '.join(exc.messages)}"
        ) from None
    return holder, iban, bic


def mandate_page_path(regie: Regie) -> str:
    from django.urls import reverse

    return reverse("billing:direct_debit", args=[regie.slug])


def open_teleservice(regie: Regie, today: datetime.date) -> Teleservice | None:
    """The "Prélèvement automatique" téléservice of `regie` open on `today`, if any."""
    return (
        Teleservice.objects.open_on(today)
        .filter(kind=KIND, direct_debit_regie__regie=regie)
        .order_by("-school_year__start_date", "pk")
        .first()
    )


def released_due_date(invoice: Invoice, today: datetime.date) -> datetime.date:
    """The due date of a programmed invoice whose mandate is revoked: its debit date, but never
    less than DIRECT_DEBIT_NOTICE_DAYS away (a debit date already near, or past while the
    collection waits for its batch, would otherwise send the invoice to recovery at once)."""
    floor = today + datetime.timedelta(days=settings.DIRECT_DEBIT_NOTICE_DAYS)
    return max(invoice.debit_date or invoice.due_date, floor)


@transaction.atomic
def mandate_revoke(*, mandate: Mandate, by, today: datetime.date) -> list[Invoice]:
    """The family revokes its mandate: no more debits. The programmed invoices not yet in a
    batch go back to impayée, due on their debit date (see `released_due_date`); the office is
    told in Échanges (and so by e-mail). Returns those invoices."""
    Regie.objects.select_for_update().get(pk=mandate.regie_id)  # no export meanwhile
    mandate = (
        Mandate.objects.select_for_update(of=("self",))
        .select_related("regie", "family")
        .get(pk=mandate.pk)
    )
    if not mandate.is_active:
        raise ValidationError(
            f"Le mandat {mandate.rum} est déjà révoqué"
            + (
                f" depuis le {timezone.localdate(mandate.revoked_at):%d/%m/%Y}."
                if mandate.revoked_at
                else "."
            )
        )
    now = timezone.now()
    mandate.move_to(Mandate.Status.REVOKED)
    mandate.revoked_at, mandate.revoked_by = now, by
    mandate._change_reason = "Révoqué par la famille"
    mandate.save(update_fields=["status", "revoked_at", "revoked_by"])
    released = list(
        Invoice.objects.select_for_update()
        .filter(mandate=mandate, status=Invoice.Status.DIRECT_DEBIT, sepa_batch__isnull=True)
        .order_by("number")
    )
    for invoice in released:
        invoice.set_status(Invoice.Status.UNPAID)
        invoice.due_date = released_due_date(invoice, today)
        invoice._change_reason = f"Mandat {mandate.rum} révoqué : prélèvement annulé"
        invoice.save(update_fields=["status", "due_date"])
    context = {"mandate": mandate, "invoices": released, "by": by, "today": today}
    subject = f"Révocation du mandat de prélèvement {mandate.rum}"
    if by is not None and by.is_staff:  # on the family's written request: the family is told
        context["office"] = True
        body = render_to_string("billing/messages/mandate_revoked.txt", context).strip()
        notify_family(family=mandate.family, subject=subject, body=body, related=mandate.request)
    else:
        body = render_to_string("billing/messages/mandate_revoked.txt", context).strip()
        _tell_office(mandate, subject=subject, body=body, by=by)
    logger.info("Mandat %s révoqué (foyer %s)", mandate.rum, mandate.family_id)
    return released


def _tell_office(mandate: Mandate, *, subject: str, body: str, by) -> Message:
    """A message from the family to the office, in the thread of the mandate's request when
    there is one: the office reads it in Échanges and gets it by e-mail (OFFICE_EMAIL)."""
    from django.contrib.contenttypes.models import ContentType

    from exchanges.models import Thread
    from exchanges.services import message_post

    thread = None
    if mandate.request_id:
        thread = (
            Thread.objects.for_family(mandate.family)
            .filter(
                related_type=ContentType.objects.get_for_model(EnrolmentRequest),
                related_id=mandate.request_id,
            )
            .order_by("pk")
            .first()
        )
    author = by if by is not None and not by.is_staff else None
    if thread is None:
        thread = thread_start(
            family=mandate.family,
            subject=subject,
            body=body,
            side=Message.Side.FAMILY,
            author=author,
            related=mandate.request,
        )
        return thread.messages.get()
    return message_post(thread=thread, side=Message.Side.FAMILY, body=body, author=author)


# Rejections -------------------------------------------------------------------------------------


def rejectable_payment(invoice: Invoice) -> Payment | None:
    """The direct-debit payment of `invoice` a bank rejection would reverse: the latest one
    not reversed yet."""
    return invoice.payments.unreversed_debits().first()


@transaction.atomic
def rejection_record(
    *,
    invoice: Invoice,
    rejected_on: datetime.date,
    reason_code: str,
    reason: str = "",
    by=None,
    today: datetime.date,
) -> DebitRejection:
    """The bank returned the direct debit of `invoice`: a reversing payment (its allocations
    mirrored, so that the statement, the journal and the tax certificate stay exact), the
    invoice back to impayée with a new due date (today + DIRECT_DEBIT_REJECTION_DUE_DAYS), an
    issue for the régisseur's follow-up, and the family told. Once per payment."""
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("regie", "family", "mandate")
        .get(pk=invoice.pk)
    )
    reason_code = (reason_code or "").strip().upper()
    reason = " ".join((reason or "").split()) or REJECTION_REASONS.get(reason_code, "")
    if not reason:
        raise ValidationError("Indiquez le motif du rejet donné par la banque.")
    if rejected_on > today:
        raise ValidationError("Le rejet ne peut pas être daté dans le futur.")
    payment = _debit_to_reject(invoice, rejected_on)
    reversal = _reverse_debit(payment, reason_code=reason_code, rejected_on=rejected_on, by=by)
    new_due = today + datetime.timedelta(days=settings.DIRECT_DEBIT_REJECTION_DUE_DAYS)
    if invoice.status == Invoice.Status.PAID:
        invoice.set_status(Invoice.Status.UNPAID)
    invoice.paid_at = None
    invoice.due_date = new_due
    invoice._change_reason = f"Prélèvement rejeté ({reason_code or 'sans code'}) : {reason}"[:100]
    invoice.save(update_fields=["status", "paid_at", "due_date"])
    rejection = DebitRejection.objects.create(
        invoice=invoice,
        reversal=reversal,
        reason_code=reason_code[:4],
        reason=reason[:250],
        rejected_on=rejected_on,
        new_due_date=new_due,
        recorded_by=by,
    )
    _flag_rejection(rejection, payment)
    _first_debit_again(invoice, payment)
    _tell_family_rejected(rejection, payment)
    return rejection


def _debit_to_reject(invoice: Invoice, rejected_on: datetime.date) -> Payment:
    """The debit a rejection of `invoice` reverses, locked; ValidationError, in French, when
    there is none (never paid by direct debit, or already rejected) or it is later."""
    payment = invoice.payments.unreversed_debits().select_for_update(of=("self",)).first()
    if payment is None:
        done = DebitRejection.objects.filter(invoice=invoice).order_by("-pk").first()
        if done is not None:
            raise ValidationError(
                f"Le prélèvement de la facture {invoice.number} a déjà été rejeté "
                f"(rejet du {done.rejected_on:%d/%m/%Y} enregistré)."
            )
        raise ValidationError(
            f"La facture {invoice.number} n'a pas été payée par prélèvement : il n'y a pas de "
            "prélèvement à rejeter."
        )
    if rejected_on < payment.paid_on:
        raise ValidationError(
            f"Le rejet ne peut pas précéder le prélèvement (du {payment.paid_on:%d/%m/%Y})."
        )
    return payment


def _reverse_debit(payment: Payment, *, reason_code: str, rejected_on: datetime.date, by):
    """The negative payment that reverses `payment`, its allocations mirroring the debit's."""
    reversal = Payment.objects.create(
        invoice_id=payment.invoice_id,
        amount_cents=-payment.amount_cents,
        reverses=payment,
        paid_on=rejected_on,
        means=Payment.Means.DIRECT_DEBIT,
        reference=f"Rejet {reason_code or ''} du prélèvement {payment.reference}".replace(
            "  ", " "
        )[:100],
        recorded_by=by,
    )
    PaymentAllocation.objects.bulk_create(
        PaymentAllocation(payment=reversal, line_id=part.line_id, amount_cents=-part.amount_cents)
        for part in payment.allocations.all()
    )
    return reversal


def _flag_rejection(rejection: DebitRejection, payment: Payment) -> PaymentIssue:
    """The issue the régisseur follows up for a rejected debit."""
    return PaymentIssue.objects.create(
        invoice=rejection.invoice,
        kind=PaymentIssue.Kind.DEBIT_REJECTED,
        amount_cents=payment.amount_cents,
        currency="eur",
        payment=rejection.reversal,
        reference=rejection.reason_code,
        detail=(
            f"Prélèvement du {payment.paid_on:%d/%m/%Y} ({format_cents(payment.amount_cents)}) "
            f"rejeté le {rejection.rejected_on:%d/%m/%Y} : {rejection.reason}. La facture "
            f"redevient impayée, à régler avant le {rejection.new_due_date:%d/%m/%Y}."
        ),
    )


def _first_debit_again(invoice: Invoice, payment: Payment) -> None:
    """When the mandate's only debit that went through is the one rejected, the next debit is a
    first one again (SEPA's FRST sequence)."""
    mandate = invoice.mandate
    if mandate is None or mandate.sequence != Mandate.Sequence.RECURRENT:
        return
    others = Payment.objects.filter(invoice__mandate=mandate).unreversed_debits()
    if others.exclude(pk=payment.pk).exists():
        return
    mandate.sequence = Mandate.Sequence.FIRST
    mandate._change_reason = f"Premier prélèvement rejeté ({invoice.number})"
    mandate.save(update_fields=["sequence"])


def _tell_family_rejected(rejection: DebitRejection, payment: Payment) -> None:
    invoice = rejection.invoice
    notify_family(
        family=invoice.family,
        subject=f"Prélèvement rejeté : facture {invoice.number}",
        body=render_to_string(
            "billing/messages/debit_rejected.txt",
            {
                "invoice": invoice,
                "amount_cents": payment.amount_cents,
                "rejection": rejection,
                "url": absolute_url(invoice.get_absolute_url()),
            },
        ).strip(),
        related=invoice,
        new_thread=True,
    )
