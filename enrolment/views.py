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

from . import selectors, services
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
    requests = (
        EnrolmentRequest.objects.for_family(request.family)
        .select_related("teleservice", "child")
        .only("pk", "number", "state", "created_at", "submitted_at", "teleservice__label",
              "child__first_name", "child__last_name")
    )
    page = Paginator(requests, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "enrolment/request_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@family_required
def request_create(request, slug):
    teleservice = get_object_or_404(Teleservice.objects.select_related("school_year", "service"), slug=slug)
    today = timezone.localdate()
    context = {"teleservice": teleservice}
    if not teleservice.is_open(today):
        return render(request, "enrolment/request_closed.html", context)
    if not teleservice.per_child:
        existing = services.blocking_request(teleservice=teleservice, family=request.family, child=None)
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
        context.update(rows=selectors.offer_rows(family=request.family, teleservice=teleservice),
                       choice=choice if raw_child is not None else None, existing_request=choice.existing_request)
        return render(request, "enrolment/request_choose_child.html", context)
    return _request_form(request, teleservice, child=choice.cleaned_data["child"], draft=None, today=today,
                         choice=choice)


@require_http_methods(["GET", "POST"])
@family_required
def request_update(request, pk):
    draft = get_object_or_404(
        EnrolmentRequest.objects.for_family(request.family).select_related("teleservice", "child"), pk=pk
    )
    if not draft.is_editable:
        messages.info(request, "Cette demande est envoyée : elle ne se modifie plus.")
        return redirect(draft)
    return _request_form(request, draft.teleservice, child=draft.child, draft=draft, today=timezone.localdate())


def _request_form(request, teleservice, *, child, draft, today, choice=None):
    """The request form (new or draft): the child's file, the kind's questions and the documents."""
    kind = teleservice.kind_spec
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    child_form = contact_formset = None
    if child is not None:
        child_form = ChildAnswersForm(data, instance=child, kind=kind, prefix="child")
        if kind.with_contacts:
            contact_formset = ChildContactFormSet(data, instance=child, prefix="contacts")
    initial = draft.answers if draft else selectors.previous_answers(
        family=request.family, teleservice=teleservice, child=child)
    questions = kind.questions_form(data, initial=initial, prefix="q")
    documents = DocumentsForm(data, files, teleservice=teleservice, request=draft)
    forms = [form for form in (child_form, contact_formset, questions, documents) if form is not None]
    errors = []
    if request.method == "POST" and all(form.is_valid() for form in forms):
        submit = request.POST.get("action") == "submit"
        try:
            saved = services.request_save(
                teleservice=teleservice, family=request.family, user=request.user, today=today,
                answers=questions.answers(), request=draft, child=child, child_form=child_form,
                contact_formset=contact_formset, uploads=documents.uploads(), submit=submit,
            )
        except ValidationError as exc:
            errors = _spread_errors(exc, questions, documents)
        else:
            if submit:
                messages.success(request, f"Votre demande n° {saved.number} est envoyée au pôle administratif. "
                                          "Vous suivez son traitement ici et dans « Mes demandes ».")
            else:
                messages.success(request, f"Le brouillon n° {saved.number} est enregistré. Pensez à valider "
                                          "votre demande une fois complète.")
            return redirect(saved)
    elif request.method == "POST":
        errors = ["Le formulaire contient des erreurs : corrigez les champs signalés ci-dessous."]
    context = {
        "teleservice": teleservice, "kind": kind, "child": child, "draft": draft, "choice": choice,
        "child_form": child_form, "contact_formset": contact_formset, "questions": questions,
        "documents": documents, "errors": errors,
    }
    return render(request, "enrolment/request_form.html", context)


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


def _own_request(request, pk):
    return get_object_or_404(
        EnrolmentRequest.objects.for_family(request.family).select_related(
            "teleservice", "child", "school_year"), pk=pk
    )


def _render_detail(request, enrolment_request, *, replace_forms=None, status=200):
    context = selectors.request_detail_context(enrolment_request)
    replace_forms = replace_forms or {}
    for document in context["documents"]:
        if document.needs_replacement and enrolment_request.state == EnrolmentRequest.State.SUBMITTED:
            document.replace_form = replace_forms.get(document.pk) or ReplaceDocumentForm(
                prefix=f"remplacer-{document.pk}")
    return render(request, "enrolment/request_detail.html", context, status=status)


@require_GET
@family_required
def request_detail(request, pk):
    return _render_detail(request, _own_request(request, pk))


@require_GET
@family_required
def document_download(request, pk, doc_pk):
    document = get_object_or_404(RequestDocument.objects.for_family(request.family), request_id=pk, pk=doc_pk)
    if not document.file:
        raise Http404("Ce justificatif n'a pas de fichier.")
    return serve_private_file(document.file, download_name=document.original_name,
                              content_type=document.content_type)


@require_http_methods(["GET", "POST"])
@family_required
def document_replace(request, pk, doc_pk):
    """POST from the request page: a new file for a refused or to-update document."""
    document = get_object_or_404(RequestDocument.objects.for_family(request.family), request_id=pk, pk=doc_pk)
    if request.method == "GET":
        return redirect(document.request)
    form = ReplaceDocumentForm(request.POST, request.FILES, prefix=f"remplacer-{document.pk}")
    if form.is_valid():
        try:
            services.document_replace(document=document, uploaded=form.cleaned_data["file"], user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Le nouveau document « {document.document_type.name} » est envoyé : "
                                      "le pôle administratif va le vérifier.")
        return redirect(document.request)
    return _render_detail(request, _own_request(request, pk), replace_forms={document.pk: form})


@require_http_methods(["GET", "POST"])
def document_replace_link(request, token):
    """The e-mailed link: replaces exactly one document, once, for the family it was sent to."""
    try:
        document, nonce = services.document_for_token(token=token, family=request.family)
    except RequestDocument.DoesNotExist as exc:
        raise Http404("Lien inconnu.") from exc
    except ValidationError as exc:
        context = {"refusal": " ".join(exc.messages)}
        return render(request, "enrolment/document_replace.html", context,
                      status=400 if request.method == "POST" else 200)
    form = ReplaceDocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_replace(document=document, uploaded=form.cleaned_data["file"], user=request.user,
                                      nonce=nonce)
        except ValidationError as exc:
            return render(request, "enrolment/document_replace.html", {"refusal": " ".join(exc.messages)},
                          status=400)
        messages.success(request, f"Le nouveau document « {document.document_type.name} » est envoyé : "
                                  "le pôle administratif va le vérifier.")
        return redirect(document.request)
    context = {"document": document, "enrolment_request": document.request, "form": form}
    return render(request, "enrolment/document_replace.html", context)

