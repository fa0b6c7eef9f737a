import datetime

from django import forms

from common.dates import MONTHS, month_name, parse_month
from common.money import parse_euros

from .invoicing import add_months
from .models import Payment, Regie, month_start

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PeriodForm(forms.Form):
    """A period of dates (du … au), for the statement and the journal."""

    du = forms.DateField(label="Du", input_formats=DATE_FORMATS, widget=DateInput())
    au = forms.DateField(label="Au", input_formats=DATE_FORMATS, widget=DateInput())

    MAX_DAYS = 366 * 5

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end:
            if end < start:
                self.add_error("au", "La fin de la période doit suivre son début.")
            elif (end - start).days > self.MAX_DAYS:
                self.add_error("au", "La période couvre au plus cinq ans.")
        return cleaned


class EurosField(forms.CharField):
    """An amount typed in euros ("30", "30,50"), cleaned to integer cents."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "maxlength": "20"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if len(value) > 20:
            raise forms.ValidationError("Saisissez un montant en euros, par exemple 30,00.")
        try:
            cents = parse_euros(value)
        except ValueError:
            raise forms.ValidationError(
                "Saisissez un montant en euros, par exemple 30,00."
            ) from None
        if cents <= 0:
            raise forms.ValidationError("Le montant doit être positif.")
        return cents


class PaymentForm(forms.Form):
    """A counter payment recorded by the office."""

    amount = EurosField(label="Montant (€)")
    paid_on = forms.DateField(
        label="Date du paiement", input_formats=DATE_FORMATS, widget=DateInput()
    )
    means = forms.ChoiceField(label="Moyen de paiement", choices=Payment.Means.choices)
    reference = forms.CharField(
        label="Référence",
        max_length=100,
        required=False,
        help_text="Numéro du chèque, référence du virement…",
    )

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > self.today:
            raise forms.ValidationError("Le paiement ne peut pas être daté dans le futur.")
        return paid_on


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Motif de l'annulation",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Imprimé sur l'avoir et communiqué à la famille.",
    )


class RunForm(forms.Form):
    """Invoicing a month from the admin: a régie (or all of them) and one of the last twelve
    finished months, most recent first. `early`, ticked on the preview, confirms issuing before
    the régie's issue day."""

    MONTHS = 12

    regie = forms.ModelChoiceField(
        label="Régie",
        queryset=Regie.objects.all(),
        required=False,
        empty_label="Toutes les régies",
    )
    mois = forms.TypedChoiceField(
        label="Mois à facturer", coerce=parse_month, help_text="Les douze derniers mois terminés."
    )
    early = forms.BooleanField(
        label="Je confirme l'émission des factures avant la date prévue.", required=False
    )

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        last = month_start(today)
        months = [add_months(last, -offset) for offset in range(1, self.MONTHS + 1)]
        self.fields["mois"].choices = [(f"{m:%Y-%m}", month_name(m)) for m in months]
        self.fields["mois"].initial = f"{months[0]:%Y-%m}"

    def regies(self) -> list[Regie]:
        """The régies chosen (cleaned form)."""
        regie = self.cleaned_data["regie"]
        return [regie] if regie else list(Regie.objects.all())


class CafPeriodForm(forms.Form):
    """The period of the CAF figures: a calendar year, and a month of it or the whole year."""

    annee = forms.TypedChoiceField(label="Année", coerce=int)
    mois = forms.TypedChoiceField(
        label="Mois",
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "Toute l'année")]
        + [(number, MONTHS[number - 1].capitalize()) for number in range(1, 13)],
    )

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        years = range(today.year, today.year - 6, -1)
        self.fields["annee"].choices = [(year, str(year)) for year in years]
        self.fields["annee"].error_messages["invalid_choice"] = (
            "Choisissez une année de la liste (%(value)s n'en fait pas partie)."
        )
        self.fields["mois"].error_messages["invalid_choice"] = (
            "Choisissez un mois de la liste, ou « Toute l'année »."
        )

    @staticmethod
    def default_initial(today: datetime.date) -> dict:
        """The last month ended: what the office usually reports."""
        last = add_months(today, -1)
        return {"annee": last.year, "mois": last.month}
