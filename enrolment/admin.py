"""The office's workplace for requests: review each document, attach one, accept or refuse.

Every button posts to a small admin view that calls the same services as the parent pages. The
request itself is read-only in the admin: it changes only through those services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from common import outbox
from common.admin import ReadOnlyMixin, change_link
from common.admin_titles import FrenchTitles, FrenchTitlesMixin
from common.files import (
    JPEG,
    KIND_BY_CONTENT_TYPE,
    PDF,
    PNG,
    PrivateDocumentField,
    serve_private_file,
)
from exchanges.admin import threads_about
from families.models import School

from . import kinds, services, tasks
from .forms import ReasonForm
from .models import (
    DocumentType,
    Enrolment,
    EnrolmentRequest,
    RequestDocument,
    Service,
    Teleservice,
    TeleserviceDocument,
)

REVIEW_PERMISSION = "enrolment.change_enrolmentrequest"


def _preview_kind(document: RequestDocument) -> str:
    """How the review page shows `document`: "pdf" in a frame, "image", or "" (no preview)."""
    kind = KIND_BY_CONTENT_TYPE.get(document.content_type) if document.file else None
    return {PDF: "pdf", JPEG: "image", PNG: "image"}.get(kind, "")


@admin.display(description="demande")
def request_link(obj):
    """A link to the admin page of `obj.request`, for the list or page of any model with a
    `request` foreign key to EnrolmentRequest ("—" when it has none)."""
    if obj.request_id is None:
        return "—"
    return change_link("enrolment.enrolmentrequest", obj.request_id, obj.request.number)


def _send_replace_link(document: RequestDocument) -> None:
    """E-mail the family the link to replace `document` once the refusal is committed (outbox)."""
    outbox.enqueue(
        tasks.send_replace_link.name,
        document.pk,
        label=f"Lien de remplacement du document « {document} »",
    )


@admin.register(Service)
class ServiceAdmin(FrenchTitlesMixin, admin.ModelAdmin):
    titles = FrenchTitles(
        add="Nouveau service", change="Modification du service", changelist="Services"
    )
    list_display = ["label", "slug", "min_age", "max_age"]
    readonly_fields = ["slug"]

    def has_add_permission(self, request):
        return False  # services are fixed: bookings and billing know them by slug

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DocumentType)
class DocumentTypeAdmin(FrenchTitlesMixin, admin.ModelAdmin):
    titles = FrenchTitles(
        add="Nouveau type de justificatif",
        change="Modification du type de justificatif",
        changelist="Types de justificatifs",
        add_button="Ajouter un type de justificatif",
    )
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class TeleserviceDocumentInline(admin.TabularInline):
    model = TeleserviceDocument
    extra = 1
    fields = ["document_type", "requirement", "condition", "position"]


class OpenFilter(admin.SimpleListFilter):
    title = "ouverture"
    parameter_name = "ouvert"

    def lookups(self, request, model_admin):
        return [("oui", "Ouvert aujourd'hui"), ("non", "Fermé aujourd'hui")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "oui":
            return queryset.open_on(today)
        if self.value() == "non":
            return queryset.exclude(pk__in=queryset.open_on(today))
        return queryset


@admin.register(Teleservice)
class TeleserviceAdmin(FrenchTitlesMixin, admin.ModelAdmin):
    titles = FrenchTitles(
        add="Nouveau téléservice",
        change="Modification du téléservice",
        changelist="Téléservices",
        add_button="Ajouter un téléservice",
    )
    list_display = ["label", "kind", "school_year", "opens_on", "closes_on", "service"]
    list_filter = ["kind", "school_year", OpenFilter]
    search_fields = ["label", "slug"]
    prepopulated_fields = {"slug": ["label"]}
    inlines = [TeleserviceDocumentInline]
    fields = [
        "kind",
        "label",
        "slug",
        "description",
        "school_year",
        "service",
        ("opens_on", "closes_on"),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The kind decides the form and the hooks: fixed once requests exist.
        return ["kind"] if obj is not None and obj.requests.exists() else []


class DocumentsToReviewFilter(admin.SimpleListFilter):
    title = "documents à revoir"
    parameter_name = "a_revoir"

    def lookups(self, request, model_admin):
        return [
            ("oui", "Documents à revoir"),
            ("non", "Rien à revoir"),
            ("famille", "En attente de la famille"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(needs_review=True)
        if self.value() == "famille":
            return queryset.waiting_on_family()
        if self.value() == "non":
            return queryset.filter(needs_review=False)
        return queryset


class SchoolFilter(admin.SimpleListFilter):
    title = "école"
    parameter_name = "ecole"

    def lookups(self, request, model_admin):
        return [(school.pk, school.name) for school in School.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(child__school_id=self.value())
        return queryset


class AttachForm(forms.Form):
    document_type = forms.ModelChoiceField(
        label="Justificatif", queryset=DocumentType.objects.none()
    )
    file = PrivateDocumentField(label="Fichier")

    def __init__(self, *args, teleservice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].queryset = DocumentType.objects.filter(
            rules__teleservice=teleservice
        )


@admin.register(EnrolmentRequest)
class EnrolmentRequestAdmin(FrenchTitlesMixin, ReadOnlyMixin, SimpleHistoryAdmin):
    """Families file requests and the office reviews them: the request changes only through the
    review buttons (services), never the raw form; the retention job deletes old drafts."""

    change_form_template = "admin/enrolment/enrolmentrequest/change_form.html"
    titles = FrenchTitles(add="Nouvelle demande", change="Demande", changelist="Demandes")
    list_display = [
        "number",
        "teleservice",
        "family",
        "child",
        "state_label",
        "needs_review",
        "submitted_at",
    ]
    list_filter = ["teleservice", "state", "school_year", SchoolFilter, DocumentsToReviewFilter]
    search_fields = [
        "number",
        "family__name",
        "child__last_name",
        "child__first_name",
        "family__guardians__user__email",
    ]
    list_select_related = ["teleservice__school_year", "family", "child"]
    date_hierarchy = "created_at"
    fieldsets = [
        (
            None,
            {"fields": ["number", "state", "teleservice", "school_year", "family_link", "child"]},
        ),
        (
            "Dates et décision",
            {
                "classes": ["collapse"],
                "fields": [
                    "created_at",
                    "submitted_at",
                    "decided_at",
                    "decided_by",
                    "refusal_reason",
                ],
            },
        ),
    ]
    readonly_fields = [
        "number",
        "state",
        "teleservice",
        "school_year",
        "family_link",
        "child",
        "created_at",
        "submitted_at",
        "decided_at",
        "decided_by",
        "refusal_reason",
    ]

    @staticmethod
    def can_review(request) -> bool:
        """Whether the staff member may review requests (validate, refuse, decide)."""
        return request.user.has_perm(REVIEW_PERMISSION)

    @admin.display(description="état", ordering="state")
    def state_label(self, obj):
        """The request's state, in French."""
        return obj.get_state_display()

    @admin.display(description="foyer")
    def family_link(self, obj):
        """A link to the family's admin page."""
        return change_link("families.family", obj.family_id, obj.family)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context = {**(extra_context or {}), **self._review_context(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _review_context(self, request, obj):
        documents = list(
            obj.documents.select_related("document_type", "uploaded_by", "reviewed_by")
        )
        required = {rule.document_type_id for rule in services.required_rules(obj)}
        for document in documents:
            document.is_required = document.document_type_id in required
            document.preview = _preview_kind(document)
        present = {document.document_type_id for document in documents if document.file}
        return {
            "title": "Examen de la demande" if self.can_review(request) else "Demande",
            "can_review": self.can_review(request),
            "review_documents": documents,
            "missing_documents": [
                rule.document_type
                for rule in services.required_rules(obj)
                if rule.document_type_id not in present
            ],
            "acceptance_problems": services.acceptance_problems(obj)
            if obj.state == obj.State.SUBMITTED
            else [],
            "events": obj.events.select_related("actor"),
            "reason_form": ReasonForm(),
            "attach_form": AttachForm(teleservice=obj.teleservice),
            "qf_prompt": services.qf_update_prompt(obj),
            "family_admin_url": reverse("admin:families_family_change", args=[obj.family_id]),
            "enrolments": obj.enrolments.select_related("service", "school_year"),
            "answer_sections": [
                (heading, rows)
                for heading, rows in [
                    ("Fiche de l'enfant", obj.answers.get("child_file", [])),
                    ("Réponses au formulaire", kinds.answer_rows(obj)),
                ]
                if rows
            ],
            "threads": threads_about(obj),
        }

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/documents/<int:doc_pk>/telecharger/",
                view(self.download_view),
                name="enrolment_requestdocument_download",
            ),
            path(
                "<int:pk>/documents/<int:doc_pk>/apercu/",
                view(self.preview_view),
                name="enrolment_requestdocument_preview",
            ),
            path(
                "<int:pk>/documents/<int:doc_pk>/decision/",
                view(self.document_decision_view),
                name="enrolment_requestdocument_decision",
            ),
            path(
                "<int:pk>/joindre/",
                view(self.attach_view),
                name="enrolment_enrolmentrequest_attach",
            ),
            path(
                "<int:pk>/accepter/",
                view(self.accept_view),
                name="enrolment_enrolmentrequest_accept",
            ),
            path(
                "<int:pk>/refuser/",
                view(self.refuse_view),
                name="enrolment_enrolmentrequest_refuse",
            ),
            *super().get_urls(),
        ]

    def _back(self, pk):
        return HttpResponseRedirect(reverse("admin:enrolment_enrolmentrequest_change", args=[pk]))

    def _reviewable(self, request, pk):
        if not self.can_review(request):
            raise PermissionDenied
        return get_object_or_404(EnrolmentRequest, pk=pk)

    def _report(self, request, exc: ValidationError):
        messages.error(request, " ".join(exc.messages))

    def download_view(self, request, pk, doc_pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = get_object_or_404(RequestDocument, request_id=pk, pk=doc_pk)
        if not document.file:
            raise Http404
        return serve_private_file(
            document.file, download_name=document.original_name, content_type=document.content_type
        )

    def preview_view(self, request, pk, doc_pk):
        """The document shown in the review page itself (PDF in a frame, image as an image), sent
        inline only for those types, sandboxed; any other file goes out as an attachment."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = get_object_or_404(RequestDocument, request_id=pk, pk=doc_pk)
        if not document.file:
            raise Http404
        return serve_private_file(
            document.file,
            download_name=document.original_name,
            content_type=document.content_type,
            inline=True,
        )

    def document_decision_view(self, request, pk, doc_pk):
        if request.method != "POST":
            return self._back(pk)
        enrolment_request = self._reviewable(request, pk)
        document = get_object_or_404(RequestDocument, request=enrolment_request, pk=doc_pk)
        decision = request.POST.get("decision")
        reason = request.POST.get("reason", "")
        name = document.document_type.name
        try:
            if decision == "valider":
                services.document_validate(document=document, user=request.user)
                messages.success(request, f"« {name} » est validé.")
            elif decision == "refuser":
                with transaction.atomic():  # the refusal and its e-mail, or neither
                    services.document_refuse(document=document, user=request.user, reason=reason)
                    _send_replace_link(document)
                messages.success(
                    request,
                    f"« {name} » est refusé : la famille reçoit le motif dans Échanges et "
                    "un lien pour le remplacer par e-mail.",
                )
            elif decision == "mettre_a_jour":
                with transaction.atomic():
                    services.document_request_update(
                        document=document, user=request.user, reason=reason
                    )
                    _send_replace_link(document)
                messages.success(
                    request, f"Une mise à jour de « {name} » est demandée à la famille."
                )
            else:
                messages.error(request, "Choisissez une décision.")
        except ValidationError as exc:
            self._report(request, exc)
        return self._back(pk)

    def attach_view(self, request, pk):
        if request.method != "POST":
            return self._back(pk)
        enrolment_request = self._reviewable(request, pk)
        form = AttachForm(request.POST, request.FILES, teleservice=enrolment_request.teleservice)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return self._back(pk)
        try:
            services.document_attach_by_office(
                enrolment_request=enrolment_request,
                document_type=form.cleaned_data["document_type"],
                uploaded=form.cleaned_data["file"],
                user=request.user,
            )
        except ValidationError as exc:
            self._report(request, exc)
        else:
            messages.success(
                request, "Le justificatif est joint à la demande, en attente de vérification."
            )
        return self._back(pk)

    def accept_view(self, request, pk):
        if request.method != "POST":
            return self._back(pk)
        enrolment_request = self._reviewable(request, pk)
        try:
            services.enrolment_request_accept(
                enrolment_request=enrolment_request, user=request.user, today=timezone.localdate()
            )
        except ValidationError as exc:
            self._report(request, exc)
            return self._back(pk)
        messages.success(
            request,
            f"La demande n° {enrolment_request.number} est acceptée ; la famille est prévenue.",
        )
        enrolment_request.refresh_from_db()
        prompt = services.qf_update_prompt(enrolment_request)
        if prompt:
            url = reverse("admin:families_family_change", args=[enrolment_request.family_id])
            messages.warning(
                request, format_html('{} <a href="{}">Ouvrir le foyer</a>', prompt, url)
            )
        return self._back(pk)

    def refuse_view(self, request, pk):
        if request.method != "POST":
            return self._back(pk)
        enrolment_request = self._reviewable(request, pk)
        try:
            services.enrolment_request_refuse(
                enrolment_request=enrolment_request,
                user=request.user,
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            self._report(request, exc)
        else:
            messages.success(
                request,
                f"La demande n° {enrolment_request.number} est refusée ; "
                "la famille reçoit le motif.",
            )
        return self._back(pk)


@admin.register(Enrolment)
class EnrolmentAdmin(FrenchTitlesMixin, admin.ModelAdmin):
    titles = FrenchTitles(
        add="Nouvelle inscription",
        change="Modification de l'inscription",
        view="Inscription",
        changelist="Inscriptions",
    )
    list_display = ["child", "service", "school_year", "effective_on", request_link]
    list_filter = ["service", "school_year", ("child__school", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["child__last_name", "child__first_name", "child__family__name"]
    list_select_related = ["child", "service", "school_year", "request"]
    readonly_fields = ["child", "service", "school_year", "effective_on", "request", "created_at"]

    def has_add_permission(self, request):
        return False  # an enrolment comes from an accepted request
