from django import forms

from common.files import MultipleDocumentField


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Votre réponse",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Écrivez votre message avant de l'envoyer."},
    )
    attachments = MultipleDocumentField(label="Pièces jointes (facultatif)", required=False)

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Écrivez votre message avant de l'envoyer.")
        return body


class NewThreadForm(ReplyForm):
    subject = forms.CharField(
        label="Objet",
        max_length=200,
        error_messages={"required": "Indiquez l'objet de votre message."},
    )

    field_order = ["subject", "body", "attachments"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = "Votre message"
