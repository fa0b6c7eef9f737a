"""The kinds of request, each with its form written in code, and the hooks higher apps register.

A kind says whether a request is filed for one child or for the whole family, which questions it
asks beyond the child's file (a small Django form whose cleaned data becomes `request.answers`),
and which hooks run when a request is submitted or accepted. Billing registers the direct-debit
kind's hooks, for instance:

    enrolment.kinds.register_hook("prelevement", "on_accept", create_mandate)

`validate_submission(request)` raises ValidationError to stop a submission (it runs again when
the office accepts); `on_accept(request, *, user, today)` acts in the same transaction as the
acceptance (raising ValidationError there cancels the acceptance).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms

from .models import Teleservice

HOOK_NAMES = ("validate_submission", "on_accept")


class RequestQuestionsForm(forms.Form):
    """Questions of a request that do not belong on the child's file. `required_on_submit` names
    the boxes that may stay empty in a draft but must be answered to submit."""

    required_on_submit: tuple[str, ...] = ()

    def answers(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.fields}


class EnrolmentQuestionsForm(RequestQuestionsForm):
    shared_custody = forms.BooleanField(
        label="La garde de l'enfant est partagée (résidence alternée ou jugement)",
        required=False,
        help_text="Le jugement de garde est alors demandé.",
    )
    rules_accepted = forms.BooleanField(
        label="J'ai pris connaissance du règlement intérieur et je l'accepte",
        required=False,
    )

    required_on_submit = ("rules_accepted",)


class DirectDebitQuestionsForm(RequestQuestionsForm):
    account_holder = forms.CharField(label="Titulaire du compte", max_length=120, required=False)
    iban = forms.CharField(
        label="IBAN", max_length=40, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    bic = forms.CharField(label="BIC", max_length=11, required=False)
    mandate_accepted = forms.BooleanField(
        label="J'autorise la régie à prélever mon compte selon le mandat SEPA", required=False
    )

    required_on_submit = ("account_holder", "iban", "bic", "mandate_accepted")

    def clean_iban(self):
        return "".join(self.cleaned_data["iban"].split()).upper()

    def clean_bic(self):
        return self.cleaned_data["bic"].strip().upper()


@dataclass
class Kind:
    """How requests of one kind are filed."""

    code: str
    per_child: bool
    questions_form: type[RequestQuestionsForm]
    # Answers saved on the child, asked again (prefilled) in each yearly request.
    child_fields: tuple[str, ...] = ()
    required_child_fields: tuple[str, ...] = ()
    with_contacts: bool = False
    hooks: dict[str, list[Callable]] = field(default_factory=lambda: {name: [] for name in HOOK_NAMES})

    @property
    def label(self) -> str:
        return Teleservice.Kind(self.code).label


_KINDS = {
    Teleservice.Kind.PERISCOLAIRE: Kind(
        code=Teleservice.Kind.PERISCOLAIRE,
        per_child=True,
        questions_form=EnrolmentQuestionsForm,
        child_fields=("school", "school_class", "canteen", "has_pai", "health_notes", "image_rights"),
        required_child_fields=("school", "school_class"),
        with_contacts=True,
    ),
    Teleservice.Kind.ALAI: Kind(
        code=Teleservice.Kind.ALAI,
        per_child=True,
        questions_form=EnrolmentQuestionsForm,
        child_fields=("school", "school_class", "has_pai", "health_notes", "image_rights"),
        with_contacts=True,
    ),
    Teleservice.Kind.PRELEVEMENT: Kind(
        code=Teleservice.Kind.PRELEVEMENT,
        per_child=False,
        questions_form=DirectDebitQuestionsForm,
    ),
}


def get_kind(code: str) -> Kind:
    return _KINDS[code]


def register_hook(code: str, hook: str, function: Callable) -> None:
    """Run `function` as the `hook` ("validate_submission" or "on_accept") of kind `code`."""
    if hook not in HOOK_NAMES:
        raise ValueError(f"Unknown hook {hook!r}; expected one of {HOOK_NAMES}")
    functions = get_kind(code).hooks[hook]
    if function not in functions:
        functions.append(function)


def unregister_hook(code: str, hook: str, function: Callable) -> None:
    functions = get_kind(code).hooks[hook]
    if function in functions:
        functions.remove(function)


def run_hooks(code: str, hook: str, *args, **kwargs) -> None:
    for function in list(get_kind(code).hooks[hook]):
        function(*args, **kwargs)


def answer_rows(request) -> list[tuple[str, str]]:
    """The request's own answers as (question, answer) pairs, in French, for display."""
    form = get_kind(request.kind).questions_form()
    rows = []
    for name, form_field in form.fields.items():
        if name not in request.answers:
            continue
        value = request.answers[name]
        if isinstance(form_field, forms.BooleanField):
            shown = "Oui" if value else "Non"
        elif name == "iban" and value:
            shown = f"{value[:4]} •••• {value[-4:]}"
        else:
            shown = str(value or "—")
        rows.append((str(form_field.label), shown))
    return rows
