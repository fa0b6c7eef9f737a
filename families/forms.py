import datetime

from django import forms
from django.conf import settings
from django.utils import timezone

from .models import Child, ChildContact, Family, Guardian, School


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class FamilyForm(forms.ModelForm):
    """The household's identity and address, as a parent may edit them (never the QF)."""

    class Meta:
        model = Family
        fields = ["name", "address", "address_complement", "postal_code", "city", "phone"]
        widgets = {
            "address": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_complement": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "postal_code": forms.TextInput(
                attrs={"autocomplete": "postal-code", "inputmode": "numeric"}
            ),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        }

    def clean_name(self):
        return self.cleaned_data["name"].strip().upper()


class GuardianForm(forms.ModelForm):
    """What the family file records about the signed-in guardian."""

    first_name = forms.CharField(label="Votre prénom", max_length=150)
    last_name = forms.CharField(label="Votre nom", max_length=150)

    class Meta:
        model = Guardian
        fields = ["relationship", "mobile_phone", "work_phone"]
        widgets = {
            "mobile_phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "work_phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    field_order = ["last_name", "first_name", "relationship", "mobile_phone", "work_phone"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["last_name"].initial = user.last_name
        self.fields["first_name"].initial = user.first_name

    def save(self, commit=True):
        self.user.first_name = self.cleaned_data["first_name"].strip()
        self.user.last_name = self.cleaned_data["last_name"].strip().upper()
        self.user.save(update_fields=["first_name", "last_name"])
        return super().save(commit=commit)


class InvitationForm(forms.Form):
    """The address of the person a guardian invites to join the family."""

    email = forms.EmailField(
        label="Adresse e-mail de l'autre parent",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = (
            f"Il ou elle recevra un lien valable {settings.GUARDIAN_INVITATION_DAYS} jours, à "
            "ouvrir avec un compte du portail créé à cette adresse."
        )


class ChildForm(forms.ModelForm):
    """A child's identity and schooling, plus the health notes the parent wants the team to know."""

    class Meta:
        model = Child
        fields = [
            "last_name",
            "first_name",
            "birth_date",
            "sex",
            "school",
            "school_class",
            "canteen",
            "has_pai",
            "health_notes",
            "image_rights",
        ]
        widgets = {"birth_date": DateInput(), "health_notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(is_active=True)
        self.fields["school"].empty_label = "— Pas encore scolarisé(e) —"

    def clean_last_name(self):
        return self.cleaned_data["last_name"].strip().upper()

    def clean_first_name(self):
        return self.cleaned_data["first_name"].strip()

    def clean_birth_date(self):
        birth_date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if birth_date > today:
            raise forms.ValidationError("La date de naissance ne peut pas être dans le futur.")
        if birth_date < today.replace(year=today.year - 18) - datetime.timedelta(days=1):
            raise forms.ValidationError("Le portail accueille les enfants de moins de 18 ans.")
        return birth_date


class ChildContactForm(forms.ModelForm):
    class Meta:
        model = ChildContact
        fields = ["full_name", "relationship", "phone", "can_pick_up", "is_emergency_contact"]
        widgets = {"phone": forms.TextInput(attrs={"inputmode": "tel"})}

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("full_name")
            and not cleaned.get("can_pick_up")
            and not cleaned.get("is_emergency_contact")
            and not cleaned.get("DELETE")
        ):
            raise forms.ValidationError(
                "Cochez au moins « peut venir chercher l'enfant » ou « à prévenir en cas d'urgence »."
            )
        return cleaned


class BaseChildContactFormSet(forms.BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Django accepts any contact's id here and then silently drops the row; only this
        # child's contacts are valid choices, so a forged id becomes a visible form error.
        form.fields["id"].queryset = self.get_queryset()
        form.fields["id"].error_messages["invalid_choice"] = (
            "Cette personne ne figure pas sur la fiche de cet enfant : rechargez la page et recommencez."
        )


ChildContactFormSet = forms.inlineformset_factory(
    Child,
    ChildContact,
    form=ChildContactForm,
    formset=BaseChildContactFormSet,
    extra=1,
    max_num=8,
    validate_max=True,
    can_delete=True,
)
