import datetime

from django import forms

from common.files import PrivateDocumentField
from families.models import Child, School

from .bulk import CREATE, DELETE, MAX_DAYS, BulkRequest
from .models import Booking, Slot

WEEKDAY_CHOICES = [
    ("1", "Lundi"),
    ("2", "Mardi"),
    ("3", "Mercredi"),
    ("4", "Jeudi"),
    ("5", "Vendredi"),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _ids(values):
    result = set()
    for value in values:
        try:
            result.add(int(value))
        except (TypeError, ValueError):
            continue
    return result


class DayForm(forms.Form):
    """The day panel: the ticked créneaux, and the state the panel was rendered from."""

    creneau = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    affiches = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)
    reserves = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)
    modifiables = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)
    # Set by the second step: the parent has seen which booked créneaux will be removed.
    confirmer = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = {slot.pk: slot for slot in slots}
        choices = [(str(slot.pk), slot.label) for slot in slots]
        for name in ("creneau", "affiches", "reserves", "modifiables"):
            self.fields[name].choices = choices
            self.fields[name].error_messages["invalid_choice"] = (
                "Ce créneau n'est pas proposé ce jour-là : rechargez la page."
            )

    def ids(self, name) -> set[int]:
        return _ids(self.cleaned_data.get(name, []))

    def removed(self) -> list[Slot]:
        """The booked créneaux the parent unticked, which saving would delete."""
        pks = (self.ids("reserves") - self.ids("creneau")) & self.ids("modifiables")
        pks &= self.ids("affiches")
        return [slot for pk, slot in self.slots.items() if pk in pks]

    def added(self) -> list[Slot]:
        """The créneaux the parent ticked, which saving would book."""
        pks = (self.ids("creneau") - self.ids("reserves")) & self.ids("modifiables")
        pks &= self.ids("affiches")
        return [slot for pk, slot in self.slots.items() if pk in pks]

    def needs_confirmation(self) -> bool:
        """Removing booked créneaux asks first: the parent sees what goes before it goes."""
        return bool(self.removed()) and not self.cleaned_data.get("confirmer")


class ChildChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, child):
        return f"{child.last_name.upper()} {child.first_name}"


class SlotChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, slot):
        return f"{slot.label} ({slot.hours})"  # listed under its activity's name


class BulkForm(forms.Form):
    """Saisie groupée, with the tutorial's fields."""

    enfants = ChildChoiceField(
        label="Usagers",
        queryset=Child.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins un enfant.",
            "invalid_choice": "Cet enfant ne fait pas partie de votre foyer.",
            "invalid_pk_value": "Cet enfant ne fait pas partie de votre foyer.",
        },
    )
    action = forms.ChoiceField(
        label="Action",
        choices=[(CREATE, "Créer"), (DELETE, "Supprimer")],
        initial=CREATE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez l'action : créer ou supprimer."},
    )
    du = forms.DateField(
        label="Période du",
        widget=DateInput(),
        error_messages={
            "required": "Indiquez le premier jour.",
            "invalid": "Date invalide (JJ/MM/AAAA).",
        },
    )
    au = forms.DateField(
        label="au",
        widget=DateInput(),
        error_messages={
            "required": "Indiquez le dernier jour.",
            "invalid": "Date invalide (JJ/MM/AAAA).",
        },
    )
    creneaux = SlotChoiceField(
        label="Activités",
        queryset=Slot.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins une activité.",
            "invalid_choice": "Cette activité n'existe pas.",
            "invalid_pk_value": "Cette activité n'existe pas.",
        },
    )
    periodicite = forms.ChoiceField(
        label="Périodicité",
        choices=[("", "Aucune"), ("even", "Semaines paires"), ("odd", "Semaines impaires")],
        required=False,
        widget=forms.RadioSelect,
        help_text="Selon le numéro de la semaine dans l'année.",
    )
    jours = forms.MultipleChoiceField(
        label="Jours de la semaine",
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Aucun jour coché : tous les jours où chaque activité a lieu.",
    )

    def __init__(self, *args, family, **kwargs):
        super().__init__(*args, **kwargs)
        self.family = family
        # The children the household looks after, a child in résidence alternée included.
        self.fields["enfants"].queryset = Child.objects.in_household(family).select_related(
            "school"
        )
        self.fields["creneaux"].queryset = (
            Slot.objects.active()
            .select_related("activity__service")
            .order_by("activity__position", "position")
        )
        self.fields["periodicite"].initial = ""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        for name in ("du", "au"):
            if cleaned.get(name) and not 2000 <= cleaned[name].year <= 2100:
                self.add_error(name, "Choisissez une date entre 2000 et 2100.")
                return cleaned
        if start and end:
            if end < start:
                self.add_error("au", "Le dernier jour doit suivre le premier.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("au", "La période couvre au plus un an.")
        return cleaned

    def bulk_request(self) -> BulkRequest:
        data = self.cleaned_data
        return BulkRequest(
            children=tuple(data["enfants"]),
            action=data["action"],
            start=data["du"],
            end=data["au"],
            slots=tuple(data["creneaux"]),
            parity=data.get("periodicite") or "",
            weekdays=frozenset(int(d) for d in data.get("jours") or []),
            family=self.family,
        )

    def slot_groups(self):
        """The créneau checkboxes grouped by activity, as the tutorial lists them."""
        groups = {}
        slots = {str(slot.pk): slot for slot in self.fields["creneaux"].queryset}
        for widget in self["creneaux"]:
            slot = slots.get(str(widget.data["value"]))
            if slot is not None:
                groups.setdefault(slot.activity, []).append(widget)
        return list(groups.items())


class AbsenceForm(forms.Form):
    du = forms.DateField(
        label="Absent(e) du",
        widget=DateInput(),
        error_messages={
            "required": "Indiquez le premier jour d'absence.",
            "invalid": "Date invalide.",
        },
    )
    au = forms.DateField(
        label="au",
        widget=DateInput(),
        error_messages={
            "required": "Indiquez le dernier jour d'absence.",
            "invalid": "Date invalide.",
        },
    )
    motif = forms.CharField(
        label="Motif",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        initial="Maladie",
        error_messages={"required": "Indiquez le motif de l'absence."},
    )
    certificat = PrivateDocumentField(label="Certificat médical (facultatif)", required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("du") and cleaned.get("au") and cleaned["au"] < cleaned["du"]:
            self.add_error("au", "Le dernier jour doit suivre le premier.")
        return cleaned


class CertificateForm(forms.Form):
    certificat = PrivateDocumentField(label="Certificat médical")


class AttendanceFilterForm(forms.Form):
    """The animateur's choice of list: school, créneau, day."""

    ecole = forms.ModelChoiceField(
        label="École", queryset=School.objects.filter(is_active=True), empty_label=None
    )
    creneau = forms.ModelChoiceField(
        label="Créneau",
        queryset=Slot.objects.active().select_related("activity__service"),
        empty_label=None,
    )
    date = forms.DateField(label="Date", widget=DateInput())

    @classmethod
    def initial_for(cls, now: datetime.datetime) -> dict:
        """Today, the first school, and the créneau running now (or the next one today)."""
        day, time = now.date(), now.time()
        slots = [s for s in Slot.objects.active().order_by("start_time") if s.runs_on_weekday(day)]
        current = next((s for s in slots if time < s.end_time), slots[-1] if slots else None)
        school = School.objects.filter(is_active=True).order_by("name").first()
        return {
            "ecole": school.pk if school else None,
            "creneau": current.pk if current else None,
            "date": day,
        }


class AttendanceMarkForm(forms.Form):
    """One tap on the register: a booking of the list and its presence."""

    reservation = forms.ModelChoiceField(
        queryset=Booking.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Cet enfant n'est pas sur cette liste."},
    )
    presence = forms.ChoiceField(
        choices=[
            (Booking.Presence.PRESENT, "Présent"),
            (Booking.Presence.ABSENT, "Absent"),
            (Booking.Presence.EXCUSED, "Absent excusé"),
            (Booking.Presence.RESERVED, "Non pointé"),
        ],
        error_messages={"invalid_choice": "Choisissez présent, absent ou absent excusé."},
    )

    def __init__(self, *args, bookings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reservation"].queryset = bookings


class WalkInForm(forms.Form):
    """A child added to the register, present without booking; with a reason when staff add
    by derogation a child the rules would refuse (the service decides who may be added)."""

    enfant = forms.ModelChoiceField(
        label="Enfant présent sans réservation",
        queryset=Child.objects.select_related("school"),
        error_messages={
            "required": "Choisissez l'enfant.",
            "invalid_choice": "Cet enfant est introuvable.",
        },
    )
    derogation = forms.BooleanField(required=False, widget=forms.HiddenInput)
    motif = forms.CharField(
        label="Motif de la dérogation",
        max_length=300,
        required=False,
        strip=True,
        help_text="Par exemple : inscription en cours de traitement, accord de la direction.",
    )

    def override_reason(self) -> str | None:
        """The reason given for an addition by derogation; None for a plain walk-in."""
        return self.cleaned_data["motif"] if self.cleaned_data["derogation"] else None
