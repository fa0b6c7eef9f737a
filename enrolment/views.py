from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from common.files import serve_private_file
from families.decorators import family_required
from families.forms import ChildContactFormSet
from families.models import Child

from . import kinds, selectors, services
from .forms import ChildAnswersForm, ChildChoiceForm, DocumentsForm, ReplaceDocumentForm
from .models import EnrolmentRequest, RequestDocument, Teleservice

REQUESTS_PER_PAGE = 20


@require_GET
@family_required
def teleservice_list(request):
    today = timezone.localdate()
    context = {"offers": selectors.teleservice_offers(family=request.family, today=today)}
    return render(request, "enrolment/teleservice_list.html", context)


@require_GET
@family_required
def request_list(request):
    enrolment_requests = selectors.with_document_to_replace(
        EnrolmentRequest.objects.for_family(request.family)
        .select_related("teleservice", "child")
        .only(
            "pk",
            "number",
            "state",
            "created_at",
            "submitted_at",
            "kind",
            "family_id",
            "teleservice__label",
            "child__first_name",
            "child__last_name",
        )
    )
    page = Paginator(enrolment_requests, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    selectors.mark_waiting_on_family(page.object_list)
    return render(request, "enrolment/request_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@family_required
def request_create(request, slug):
    teleservice = get_object_or_404(
        Teleservice.objects.select_related("school_year", "service"), slug=slug
    )
    today = timezone.localdate()
    kind = kinds.get_kind(teleservice.kind)
    context = {"teleservice": teleservice, "kind": kind}
    if not teleservice.is_open(today):
        return render(request, "enrolment/request_closed.html", context)
    if not kind.per_child:
        existing = services.blocking_request(
            teleservice=teleservice, family=request.family, child=None
        )
        if existing is not None:
            context.update(existing_request=existing, error=services.duplicate_message(existing))
            return render(request, "enrolment/request_choose_child.html", context)
        return _request_form(request, teleservice, child=None, draft=None, today=today)
    children = list(Child.objects.for_family(request.family))
    raw_child = request.POST.get("child") if request.method == "POST" else request.GET.get("enfant")
    if raw_child is None and len(children) == 1:
        raw_child = children[0].pk
    choice = ChildChoiceForm({"child": raw_child}, family=request.family, teleservice=teleservice)
    if raw_child is None or not choice.is_valid():
        context.update(
            rows=selectors.offer_rows(family=request.family, teleservice=teleservice),
            choice=choice if raw_child is not None else None,
            existing_request=choice.existing_request,
        )
        return render(request, "enrolment/request_choose_child.html", context)
    return _request_form(
        request,
        teleservice,
        child=choice.cleaned_data["child"],
        draft=None,
        today=today,
        choice=choice,
    )


@require_http_methods(["GET", "POST"])
@family_required
def request_update(request, pk):
    draft = get_object_or_404(
        EnrolmentRequest.objects.for_family(request.family).select_related("teleservice", "child"),
        pk=pk,
    )
    if not draft.is_editable:
        messages.info(request, "Cette demande est envoyée : elle ne se modifie plus.")
        return redirect(draft)
    return _request_form(
        request, draft.teleservice, child=draft.child, draft=draft, today=timezone.localdate()
    )


def _request_form(request, teleservice, *, child, draft, today, choice=None):
    """The request form (new or draft): the child's file, the kind's questions and the documents.

    On POST, the accepted files are attached to the draft first (created if needed), so that a
    refused file or a missing answer never costs the family the files already chosen; then, when
    every form is valid, the rest is saved (or sent). A page with errors posts next to the draft."""
    kind = kinds.get_kind(teleservice.kind)
    forms = _request_forms(request, teleservice, kind=kind, child=child, draft=draft)
    errors, kept = [], False
    if request.method == "POST":
        valid = all([form.is_valid() for form in forms.values() if form is not None])
        try:
            if forms["documents"].uploads():
                draft = _keep_uploads(
                    request, teleservice, forms, child=child, draft=draft, today=today
                )
                kept = True
            if valid:
                submit = request.POST.get("action") == "submit"
                saved = _save_from_forms(
                    request,
                    teleservice,
                    forms,
                    child=child,
                    draft=draft,
                    today=today,
                    submit=submit,
                )
                messages.success(request, _saved_message(saved, submit=submit))
                return redirect(saved)
            errors = [
                "Le formulaire contient des erreurs : corrigez les champs signalés ci-dessous."
            ]
        except ValidationError as exc:
            errors = _spread_errors(exc, forms["questions"], forms["documents"])
        if kept:
            forms["documents"].show_attached(draft)
    context = {
        "teleservice": teleservice,
        "kind": kind,
        "child": child,
        "draft": draft,
        "choice": choice,
        **forms,
        "errors": errors,
        "kept": kept,
    }
    return render(request, "enrolment/request_form.html", context)


def _keep_uploads(request, teleservice, forms, *, child, draft, today):
    """Attach the form's accepted files to the draft (created for them if needed); the draft."""
    return services.enrolment_request_keep_uploads(
        teleservice=teleservice,
        family=request.family,
        user=request.user,
        today=today,
        uploads=forms["documents"].uploads(),
        enrolment_request=draft,
        child=child,
    )


def _request_forms(request, teleservice, *, kind, child, draft) -> dict:
    """The forms of the request page, bound on POST: the child's file and contacts (for a
    child), the kind's questions (prefilled from the draft or last year) and the documents."""
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    child_form = contact_formset = None
    if child is not None:
        child_form = ChildAnswersForm(data, instance=child, kind=kind, prefix="child")
        if kind.with_contacts:
            contact_formset = ChildContactFormSet(data, instance=child, prefix="contacts")
    if draft and draft.answers:
        initial = draft.answers
    else:  # a new request, or a draft made to keep files: last year's answers
        initial = selectors.previous_answers(
            family=request.family, teleservice=teleservice, child=child
        )
    return {
        "child_form": child_form,
        "contact_formset": contact_formset,
        "questions": kind.questions_form(data, initial=initial, prefix="q"),
        "documents": DocumentsForm(data, files, teleservice=teleservice, enrolment_request=draft),
    }


def _save_from_forms(request, teleservice, forms, *, child, draft, today, submit):
    """Hand the cleaned values of the valid forms to the service that saves (or sends) the draft."""
    child_form = forms["child_form"]
    return services.enrolment_request_save(
        teleservice=teleservice,
        family=request.family,
        user=request.user,
        today=today,
        answers=forms["questions"].answers(),
        enrolment_request=draft,
        child=child,
        child_values=child_form.cleaned_data if child_form is not None else None,
        contacts=_contact_changes(forms["contact_formset"]),
        submit=submit,
    )


def _saved_message(saved, *, submit: bool) -> str:
    """What the family reads once the draft is saved, or sent to the office."""
    if submit:
        return (
            f"Votre demande n° {saved.number} est envoyée au pôle administratif. "
            "Vous suivez son traitement ici et dans « Mes demandes »."
        )
    return (
        f"Le brouillon n° {saved.number} est enregistré. Pensez à valider "
        "votre demande une fois complète."
    )


def _contact_changes(formset) -> list[services.ContactChange]:
    """The rows of a valid contacts formset that changed, as cleaned values (none without one)."""
    if formset is None:
        return []
    return [
        services.ContactChange(
            contact_id=form.instance.pk,
            values={
                name: form.cleaned_data[name]
                for name in form._meta.fields
                if name != formset.fk.name
            },
            delete=bool(form.cleaned_data.get("DELETE")),
        )
        for form in formset.forms
        if form.has_changed()
    ]


def _spread_errors(exc: ValidationError, *forms) -> list[str]:
    """Put a service's errors on the fields they name; return the others for the top of the page."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    general = []
    for name, errors in exc.error_dict.items():
        form = next((form for form in forms if name in form.fields), None)
        if form is None:
            general.extend(message for error in errors for message in error.messages)
        else:
            form.add_error(name, errors)
    return general or ["La demande n'est pas complète : voyez les champs signalés ci-dessous."]


def _own_enrolment_request(request, pk):
    return get_object_or_404(
        EnrolmentRequest.objects.for_family(request.family).select_related(
            "teleservice", "child", "school_year"
        ),
        pk=pk,
    )


def _render_detail(request, enrolment_request, *, replace_forms=None, status=200):
    context = selectors.enrolment_request_detail_context(enrolment_request)
    context["hold"] = kinds.held_reasons([enrolment_request]).get(enrolment_request.pk)
    replace_forms = replace_forms or {}
    for document in context["documents"]:
        if (
            document.needs_replacement
            and enrolment_request.state == EnrolmentRequest.State.SUBMITTED
        ):
            document.replace_form = replace_forms.get(document.pk) or ReplaceDocumentForm(
                prefix=f"remplacer-{document.pk}"
            )
    context["to_replace"] = [
        document for document in context["documents"] if hasattr(document, "replace_form")
    ]
    return render(request, "enrolment/request_detail.html", context, status=status)


@require_GET
@family_required
def request_detail(request, pk):
    return _render_detail(request, _own_enrolment_request(request, pk))


@require_GET
@family_required
def document_download(request, pk, doc_pk):
    document = get_object_or_404(
        RequestDocument.objects.for_family(request.family), request_id=pk, pk=doc_pk
    )
    if not document.file:
        raise Http404("Ce justificatif n'a pas de fichier.")
    return serve_private_file(
        document.file, download_name=document.original_name, content_type=document.content_type
    )


@require_http_methods(["GET", "POST"])
@family_required
def document_replace(request, pk, doc_pk):
    """GET: the short page of one refused or to-update document, its form first (reached from
    « À faire » and the request page); POST: its new file. A document with nothing to replace
    sends back to its request."""
    document = get_object_or_404(
        RequestDocument.objects.for_family(request.family).select_related(
            "document_type", "request__teleservice", "request__child"
        ),
        request_id=pk,
        pk=doc_pk,
    )
    prefix = f"remplacer-{document.pk}"
    if request.method == "GET":
        if not _replaceable(document):
            messages.info(
                request, f"Le justificatif « {document.document_type.name} » n'est pas à remplacer."
            )
            return redirect(document.request)
        return _render_replace_page(request, document, ReplaceDocumentForm(prefix=prefix))
    form = ReplaceDocumentForm(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        try:
            services.document_replace(
                document=document, uploaded=form.cleaned_data["file"], user=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"Le nouveau document « {document.document_type.name} » est envoyé : "
                "le pôle administratif va le vérifier.",
            )
        return redirect(document.request)
    return _render_replace_page(request, document, form)


def _replaceable(document: RequestDocument) -> bool:
    """The family may send a new file: refused or to update, on a request « en traitement »."""
    return document.needs_replacement and document.request.state == EnrolmentRequest.State.SUBMITTED


def _render_replace_page(request, document, form):
    context = {
        "document": document,
        "enrolment_request": document.request,
        "form": form,
        "from_portal": True,
    }
    return render(request, "enrolment/document_replace.html", context)


@require_http_methods(["GET", "POST"])
def document_replace_link(request, token):
    """The e-mailed link: replaces exactly one document, once, for the family it was sent to."""
    try:
        document, nonce = services.document_for_token(token=token, family=request.family)
    except RequestDocument.DoesNotExist as exc:
        raise Http404("Lien inconnu.") from exc
    except ValidationError as exc:
        context = {"refusal": " ".join(exc.messages)}
        return render(
            request,
            "enrolment/document_replace.html",
            context,
            status=400 if request.method == "POST" else 200,
        )
    form = ReplaceDocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_replace(
                document=document,
                uploaded=form.cleaned_data["file"],
                user=request.user,
                nonce=nonce,
            )
        except ValidationError as exc:
            return render(
                request,
                "enrolment/document_replace.html",
                {"refusal": " ".join(exc.messages)},
                status=400,
            )
        messages.success(
            request,
            f"Le nouveau document « {document.document_type.name} » est envoyé : "
            "le pôle administratif va le vérifier.",
        )
        return redirect(document.request)
    context = {"document": document, "enrolment_request": document.request, "form": form}
    return render(request, "enrolment/document_replace.html", context)
