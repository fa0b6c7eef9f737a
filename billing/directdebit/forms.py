"""Staff forms of direct debit: exporting a batch, recording a rejection, the régie's creditor
details."""

import datetime

from django import forms
from django.core.exceptions import ValidationError

from billing.forms import DATE_FORMATS, DateInput
from billing.models import Regie
from common.bank import clean_bic, clean_iban, ics_is_valid

from .services import REJECTION_REASONS


class ExportForm(forms.Form):
    """Exporter un lot de prélèvement: a régie and a collection date."""

    regie = forms.ModelChoiceField(
        label="Régie",
        queryset=Regie.objects.all(),
        empty_label=None,
        error_messages={"invalid_choice": "Choisissez l'une des régies."},
    )
    collection_date = forms.DateField(
        label="Date d'échéance (prélèvement)",
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        help_text="Un jour ouvré des banques après aujourd'hui. Le lot prend toutes les factures "
        "en prélèvement programmé dont la date de prélèvement est atteinte à cette date. Pour "
        "une date déjà exportée, le même fichier est rendu.",
        error_messages={"invalid": "Indiquez une date, par exemple 10/12/2026."},
    )


REASON_CHOICES = [("", "—")] + [
    (code, f"{code} — {label}") for code, label in REJECTION_REASONS.items()
]


class RejectionForm(forms.Form):
    """A direct debit returned by the bank, as its notice reads."""

    rejected_on = forms.DateField(
        label="Date du rejet",
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        error_messages={"invalid": "Indiquez une date, par exemple 26/11/2026."},
    )
    reason_code = forms.ChoiceField(label="Code motif", choices=REASON_CHOICES, required=False)
    reason = forms.CharField(
        label="Motif",
        max_length=250,
        required=False,
        help_text="Tel que la banque l'indique. Vide : le libellé du code motif. Il est "
        "communiqué à la famille.",
    )

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_rejected_on(self):
        day = self.cleaned_data["rejected_on"]
        if day > self.today:
            raise ValidationError("Le rejet ne peut pas être daté dans le futur.")
        return day

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("reason_code") and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Choisissez un code motif ou écrivez le motif du rejet.")
        return cleaned


class RegieForm(forms.ModelForm):
    """The régie's admin form: its SEPA creditor details are checked and normalised."""

    class Meta:
        model = Regie
        fields = ["creditor_ics", "creditor_iban", "creditor_bic"]  # the admin adds the others

    def clean_creditor_ics(self):
        value = "".join((self.cleaned_data.get("creditor_ics") or "").split()).upper()
        if value and not ics_is_valid(value):
            raise ValidationError(
                "Cet identifiant créancier SEPA (ICS) n'est pas valide : il a la forme "
                "FR + 2 chiffres de contrôle + 3 caractères + 6 chiffres, par exemple "
                "FR72ZZZ123456."
            )
        return value

    def clean_creditor_iban(self):
        value = self.cleaned_data.get("creditor_iban") or ""
        return clean_iban(value) if value.strip() else ""

    def clean_creditor_bic(self):
        value = self.cleaned_data.get("creditor_bic") or ""
        if not value.strip():
            return ""
        return clean_bic(value, iban=self.cleaned_data.get("creditor_iban", ""))
