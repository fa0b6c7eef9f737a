"""The forms of the parent pages and of the office's review; the kinds' questions are in kinds."""

from django import forms

from common.files import PrivateDocumentField, sanitize_filename
from families.models import Child, School

from . import services
from .models import TeleserviceDocument


class ChildChoiceForm(forms.Form):
    """The child a request is filed for: one of the family's children, eligible, with no live
    request of the same kind this year (another family's child id is a form error)."""

    child = forms.ModelChoiceField(
        label="Enfant concerné",
        queryset=Child.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "invalid_choice": "Cet enfant ne fait pas partie de votre foyer : choisissez l'un de vos enfants.",
            "required": "Choisissez l'enfant concerné par la demande.",
        },
    )

    def __init__(self, *args, family, teleservice, **kwargs):
        super().__init__(*args, **kwargs)
        self.family, self.teleservice = family, teleservice
        self.existing_request = None
        self.fields["child"].queryset = Child.objects.for_family(family)

    def clean_child(self):
        """The chosen child, when no live request of the kind exists and the age fits."""
        child = self.cleaned_data["child"]
        self.existing_request = services.blocking_request(
            teleservice=self.teleservice, family=self.family, child=child
        )
        if self.existing_request is not None:
            raise forms.ValidationError(services.duplicate_message(self.existing_request))
        refusal = services.age_refusal(teleservice=self.teleservice, child=child)
        if refusal:
            raise forms.ValidationError(refusal)
        return child


class ChildAnswersForm(forms.ModelForm):
    """What a yearly request asks about the child; saved on the child, so prefilled next year."""

    class Meta:
        model = Child
        fields = ["school", "school_class", "canteen", "has_pai", "health_notes", "image_rights"]
        widgets = {"health_notes": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "canteen": "Mon enfant déjeune à la cantine",
            "has_pai": "Mon enfant a un projet d'accueil individualisé (PAI)",
            "image_rights": "J'autorise la Ville à photographier ou filmer mon enfant lors des activités",
        }

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in kind.child_fields:
                del self.fields[name]
        if "school" in self.fields:
            self.fields["school"].queryset = School.objects.filter(is_active=True)
            self.fields["school"].empty_label = "— Pas encore scolarisé(e) —"
        for name in kind.required_child_fields:
            self.fields[name].required = True


class NamedDocumentField(PrivateDocumentField):
    """A document upload whose refusal names the file refused, so that the family knows which of
    the files chosen together was not taken: « « photo.exe » : ce type de fichier… »."""

    def clean(self, data, initial=None):
        try:
            return super().clean(data, initial)
        except forms.ValidationError as exc:
            name = getattr(data, "name", "")
            if not name:
                raise
            name = sanitize_filename(name)
            raise forms.ValidationError(
                [f"« {name} » : {_lower_first(message)}" for message in exc.messages]
            ) from exc


def _lower_first(message: str) -> str:
    """`message` to follow a colon: « Le fichier… » becomes « le fichier… » (« PDF… » stays)."""
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        return message[0].lower() + message[1:]
    return message


class DocumentsForm(forms.Form):
    """One upload per document type the téléservice asks for; whether each is required is
    checked when the request is submitted (a draft may lack some).

    Each field knows the file already attached to the draft for its type (`field.attached`, a
    RequestDocument or None): the page shows it as « Déjà joint » and a new file replaces it."""

    def __init__(self, *args, teleservice, enrolment_request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = list(teleservice.document_rules.select_related("document_type"))
        for rule in self.rules:
            document_type = rule.document_type
            requirement = {
                TeleserviceDocument.Requirement.REQUIRED: "obligatoire",
                TeleserviceDocument.Requirement.OPTIONAL: "facultatif",
                TeleserviceDocument.Requirement.CONDITIONAL: "obligatoire selon votre réponse",
            }[rule.requirement]
            field = NamedDocumentField(
                label=f"{document_type.name} ({requirement})", required=False
            )
            if document_type.description:
                field.help_text = f"{document_type.description} {field.help_text}"
            field.rule = rule
            field.attached = None
            self.fields[services.document_field_name(document_type)] = field
        self.show_attached(enrolment_request)

    def show_attached(self, enrolment_request) -> None:
        """Mark on each field the file `enrolment_request` already holds for its type."""
        attached = {}
        if enrolment_request is not None and enrolment_request.pk:
            attached = {
                document.document_type_id: document
                for document in enrolment_request.documents.exclude(file="")
            }
        for field in self.fields.values():
            field.attached = attached.get(field.rule.document_type_id)

    def uploads(self) -> dict:
        """{DocumentType: uploaded file} for the accepted files of this form (those refused,
        if any, are left out: they carry an error on their field)."""
        cleaned = getattr(self, "cleaned_data", {})
        return {
            field.rule.document_type: cleaned[name]
            for name, field in self.fields.items()
            if cleaned.get(name)
        }


class ReplaceDocumentForm(forms.Form):
    file = PrivateDocumentField(label="Nouveau document")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Motif",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Envoyé à la famille dans « Échanges » et par e-mail.",
        error_messages={"required": "Indiquez le motif : il est envoyé à la famille."},
    )
