"""The kinds of request, each with its form written in code, and the hooks higher apps register.

A kind says whether a request is filed for one child or for the whole family, which questions it
asks beyond the child's file (a small Django form whose cleaned data becomes the request's
`answers`),
and which hooks run when a request is submitted or accepted. Billing registers the direct-debit
kind's hooks, for instance:

    enrolment.kinds.register_hook("prelevement", "on_accept", create_mandate)

Hooks receive the EnrolmentRequest positionally: `validate_submission(enrolment_request)` raises
ValidationError to stop a submission (it runs again when the office accepts);
`on_accept(enrolment_request, *, user, today)` acts in the same transaction as the acceptance
(raising ValidationError there cancels the acceptance). `held_reasons(enrolment_requests)` takes
a list of requests of the kind and returns `{request pk: Hold}` for those « en traitement » that
cannot go further until the family acts (unpaid invoices before a direct debit, say); it reads
in a bounded number of queries, whatever the number of requests.

The models know nothing of this registry: services, forms and views read a téléservice's kind
with `get_kind(teleservice.kind)`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms

from common.bank import bank_bic, clean_bic, clean_iban, mask_iban

from .models import Teleservice

HOOK_NAMES = ("validate_submission", "on_accept", "held_reasons")


class RequestQuestionsForm(forms.Form):
    """Questions of a request that do not belong on the child's file. `required_on_submit` names
    the boxes that may stay empty in a draft but must be answered to submit."""

    required_on_submit: tuple[str, ...] = ()

    def answers(self) -> dict:
        """The cleaned answers to keep on the request, one per question."""
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
    """The bank details of a direct-debit request, checked and normalised with schwifty (the
    IBAN compact and upper case, its check digits and RIB key; the BIC's format, and its bank
    when the IBAN tells it). Empty answers are allowed in a draft, not on submission."""

    account_holder = forms.CharField(
        label="Titulaire du compte",
        max_length=120,
        required=False,
        help_text="Nom et prénom tels qu'ils figurent sur le RIB.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    iban = forms.CharField(
        label="IBAN",
        max_length=42,
        required=False,
        help_text="27 caractères pour un compte français, par exemple FR76 3000 6000 0112 3456 7890 189.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )
    bic = forms.CharField(
        label="BIC",
        max_length=14,
        required=False,
        help_text="8 ou 11 caractères, sur votre RIB (par exemple AGRIFRPP). Laissé vide, il est déduit de l'IBAN "
        "quand la banque est connue.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )
    mandate_accepted = forms.BooleanField(
        label="J'autorise la régie à envoyer des instructions à ma banque pour débiter mon compte, et ma banque à "
        "débiter mon compte conformément à ces instructions (mandat de prélèvement SEPA)",
        required=False,
        help_text="Vous pouvez être remboursé par votre banque selon les conditions de votre convention de compte ; "
        "la demande doit être faite dans les 8 semaines suivant la date du débit.",
    )

    required_on_submit = ("account_holder", "iban", "bic", "mandate_accepted")

    def clean_account_holder(self):
        """The holder's name with its spaces collapsed."""
        return " ".join(self.cleaned_data["account_holder"].split())

    def clean_iban(self):
        """The IBAN checked and compacted (empty stays empty)."""
        value = self.cleaned_data["iban"]
        return clean_iban(value) if value.strip() else ""

    def clean_bic(self):
        """The BIC checked against the IBAN, or the IBAN's bank's BIC when left empty."""
        iban = self.cleaned_data.get("iban", "")  # cleaned just before (fields clean in order)
        if self.cleaned_data["bic"].strip():
            return clean_bic(self.cleaned_data["bic"], iban=iban)
        return bank_bic(iban)


@dataclass(frozen=True)
class Hold:
    """Why a request « en traitement » waits for the family: a sentence, and the pages where
    the family acts (label, parent-side URL)."""

    text: str
    links: tuple[tuple[str, str], ...] = ()


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
    # Answers too sensitive to keep in clear once the request is decided (shown masked).
    sensitive_answers: tuple[str, ...] = ()
    # The duplicate rule: one live request per child, kind and year by default. A kind filed
    # once per téléservice (one per régie, say) and whose accepted request may be followed by
    # another (a new mandate after a revocation) relaxes it; its hooks then say what conflicts.
    one_per_teleservice: bool = False
    accepted_requests_block: bool = True
    hooks: dict[str, list[Callable]] = field(
        default_factory=lambda: {name: [] for name in HOOK_NAMES}
    )

    @property
    def label(self) -> str:
        """The kind's name in French."""
        return Teleservice.Kind(self.code).label

    def scrub_answers(self, answers: dict) -> dict:
        """`answers` with the sensitive ones masked (an IBAN keeps its country and last 4)."""
        answers = dict(answers or {})
        for name in self.sensitive_answers:
            if answers.get(name):
                answers[name] = mask_iban(str(answers[name]))
        return answers


_KINDS = {
    Teleservice.Kind.PERISCOLAIRE: Kind(
        code=Teleservice.Kind.PERISCOLAIRE,
        per_child=True,
        questions_form=EnrolmentQuestionsForm,
        child_fields=(
            "school",
            "school_class",
            "canteen",
            "has_pai",
            "health_notes",
            "image_rights",
        ),
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
        sensitive_answers=("iban",),
        # One mandate per family and régie: billing refuses a request while one is active.
        one_per_teleservice=True,
        accepted_requests_block=False,
    ),
}


def get_kind(code: str) -> Kind:
    """The kind of code `code` (a `Teleservice.Kind` value)."""
    return _KINDS[code]


def register_hook(code: str, hook: str, function: Callable) -> None:
    """Run `function` as the `hook` (one of HOOK_NAMES) of kind `code`."""
    if hook not in HOOK_NAMES:
        raise ValueError(f"Unknown hook {hook!r}; expected one of {HOOK_NAMES}")
    functions = get_kind(code).hooks[hook]
    if function not in functions:
        functions.append(function)


def unregister_hook(code: str, hook: str, function: Callable) -> None:
    """Stop running `function` as the `hook` of kind `code`."""
    functions = get_kind(code).hooks[hook]
    if function in functions:
        functions.remove(function)


def run_hooks(code: str, hook: str, *args, **kwargs) -> None:
    """Call the `hook` functions of kind `code` in registration order, with these arguments."""
    for function in list(get_kind(code).hooks[hook]):
        function(*args, **kwargs)


def held_reasons(enrolment_requests) -> dict[int, Hold]:
    """{request pk: Hold} for the requests held until the family acts, asked of each kind's
    `held_reasons` hooks (one call per kind present, whatever the number of requests)."""
    by_kind: dict[str, list] = {}
    for enrolment_request in enrolment_requests:
        by_kind.setdefault(enrolment_request.kind, []).append(enrolment_request)
    reasons: dict[int, Hold] = {}
    for code, requests in by_kind.items():
        for function in list(get_kind(code).hooks["held_reasons"]):
            reasons.update(function(requests))
    return reasons


def answer_rows(enrolment_request) -> list[tuple[str, str]]:
    """The request's own answers as (question, answer) pairs, in French, for display."""
    form = get_kind(enrolment_request.kind).questions_form()
    rows = []
    for name, form_field in form.fields.items():
        if name not in enrolment_request.answers:
            continue
        value = enrolment_request.answers[name]
        if isinstance(form_field, forms.BooleanField):
            shown = "Oui" if value else "Non"
        elif name == "iban" and value:
            shown = mask_iban(str(value))
        else:
            shown = str(value or "—")
        rows.append((str(form_field.label), shown))
    return rows
