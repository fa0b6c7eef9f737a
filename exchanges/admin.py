"""The office's side of the exchanges: threads with their conversation and reply box, and the
list of threads about an object (a request, an invoice) for that object's own admin page."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from common.admin_titles import FrenchTitles, FrenchTitlesMixin
from common.files import MultipleDocumentField, serve_private_file

from . import services
from .models import Attachment, Message, Thread


class ReadStateFilter(admin.SimpleListFilter):
    title = "lecture"
    parameter_name = "lecture"

    def lookups(self, request, model_admin):
        return [("service", "Non lus par le service"), ("famille", "Non lus par la famille")]

    def queryset(self, request, queryset):
        if self.value() == "service":
            return queryset.unread_by_office()
        if self.value() == "famille":
            return queryset.unread_by_family()
        return queryset


class ThreadAdminForm(forms.ModelForm):
    reply = forms.CharField(
        label="Votre réponse",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="Publiée dans l'échange et envoyée par e-mail aux responsables du foyer.",
    )
    reply_attachments = MultipleDocumentField(label="Pièces jointes", required=False)

    class Meta:
        model = Thread
        fields = ["family", "subject", "related_type", "related_id"]
        widgets = {"related_type": forms.HiddenInput, "related_id": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk and "reply" in self.fields:
            self.fields["reply"].label = "Message"

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("reply") or "").strip():
            self.add_error(
                "reply",
                "Écrivez votre réponse."
                if self.instance.pk
                else "Écrivez le premier message de l'échange.",
            )
        if not self.instance.pk:
            cleaned["related"] = self._related(cleaned)
        return cleaned

    def _related(self, cleaned):
        """The object the new thread is about (from the « Écrire à la famille » link of a request
        or an invoice), which must belong to the chosen family."""
        related_type, related_id = cleaned.get("related_type"), cleaned.get("related_id")
        if related_type is None or related_id is None:
            return None
        related = related_type.model_class()._default_manager.filter(pk=related_id).first()
        family = cleaned.get("family")
        if related is None or (family and getattr(related, "family_id", family.pk) != family.pk):
            raise forms.ValidationError("L'objet de cet échange ne concerne pas ce foyer.")
        return related


def related_admin_link(related) -> str:
    """A link to the admin page of `related` (a request, an invoice…), shown as the object and
    its kind (« Facture F2026-0001 »), unless the object already names its kind."""
    meta = related._meta
    label = str(related)
    if not label.lower().startswith(str(meta.verbose_name).lower()):
        label = f"{capfirst(meta.verbose_name)} {label}"
    try:
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[related.pk])
    except NoReverseMatch:
        return label
    return format_html('<a href="{}">{}</a>', url, label)


def threads_about(obj) -> str:
    """The threads with the family about `obj` (a request, an invoice…), each linking to its
    admin page, and a link to start one: for the page of any object that threads relate to."""
    threads = Thread.objects.about(obj).order_by("-last_message_at", "-pk")
    items = format_html_join(
        "",
        '<li><a href="{}">{}</a> — dernier message le {}{}</li>',
        (
            (
                reverse("admin:exchanges_thread_change", args=[thread.pk]),
                thread.subject,
                date_format(timezone.localtime(thread.last_message_at), "d/m/Y à H:i"),
                " (non lu par le service)" if thread.office_unread else "",
            )
            for thread in threads
        ),
    )
    listing = format_html("<ul>{}</ul>", items) if items else "Aucun échange à ce sujet."
    family_id = getattr(obj, "family_id", None)
    if family_id is None:
        return listing
    query = urlencode(
        {
            "family": family_id,
            "subject": str(obj)[:200],
            "related_type": ContentType.objects.get_for_model(obj).pk,
            "related_id": obj.pk,
        }
    )
    add_url = f"{reverse('admin:exchanges_thread_add')}?{query}"
    return format_html(
        '<div class="related-threads">{}<p><a class="addlink" href="{}">'
        "Écrire à la famille à ce sujet</a></p></div>",
        listing,
        add_url,
    )


@admin.display(description="échanges")
def related_threads(obj) -> str:
    """`threads_about` as an admin field: put `related_threads` in a ModelAdmin's
    `readonly_fields` and `fields` (or fieldsets)."""
    return threads_about(obj)


@admin.register(Thread)
class ThreadAdmin(FrenchTitlesMixin, admin.ModelAdmin):
    """The office's side of a thread: the conversation, oldest first, then the reply box and its
    single « Envoyer » button; the reply is posted and e-mailed to the family (outbox)."""

    form = ThreadAdminForm
    change_form_template = "admin/exchanges/thread/change_form.html"
    titles = FrenchTitles(
        add="Nouvel échange", change="Échange avec la famille", changelist="Échanges"
    )
    list_display = [
        "subject",
        "family",
        "teleservice",
        "last_message_at",
        "unread_by_office",
        "family_unread",
    ]
    list_filter = [ReadStateFilter, "last_message_at"]
    search_fields = [
        "subject",
        "family__name",
        "family__guardians__user__email",
        "family__children__last_name",
    ]
    list_select_related = ["family"]
    autocomplete_fields = ["family"]
    date_hierarchy = "last_message_at"

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            fields = ["family", "subject", "reply", "reply_attachments"]
            return [(None, {"fields": [*fields, "related_type", "related_id"]})]
        info = [
            (None, {"fields": ["family", "subject", "teleservice", "related_link", "created_at"]})
        ]
        if not self.has_change_permission(request, obj):
            return info
        return [*info, ("Répondre", {"fields": ["reply", "reply_attachments"]})]

    def get_readonly_fields(self, request, obj=None):
        return ["family", "subject", "teleservice", "related_link", "created_at"] if obj else []

    @admin.display(description="non lu", boolean=True, ordering="office_unread")
    def unread_by_office(self, obj):
        return obj.office_unread

    @admin.display(description="concerne")
    def related_link(self, obj):
        related = obj.related
        return "—" if related is None else related_admin_link(related)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        thread = self.get_object(request, object_id)
        if thread is not None:
            if request.method == "GET":
                services.thread_mark_read(thread=thread, side=Message.Side.OFFICE)
            conversation = thread.messages.select_related("author").prefetch_related("attachments")
            extra_context = {**(extra_context or {}), "conversation": conversation}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        body = (form.cleaned_data.get("reply") or "").strip()
        files = form.cleaned_data.get("reply_attachments") or []
        try:
            if not change:
                thread = services.thread_start(
                    family=obj.family,
                    subject=obj.subject,
                    body=body,
                    side=Message.Side.OFFICE,
                    author=request.user,
                    attachments=files,
                    related=form.cleaned_data.get("related"),
                )
                obj.pk, obj._state.adding, obj._state.db = thread.pk, False, thread._state.db
            else:
                services.message_post(
                    thread=obj,
                    side=Message.Side.OFFICE,
                    author=request.user,
                    body=body,
                    attachments=files,
                )
        except ValidationError as exc:
            obj.send_failed = True
            messages.error(request, " ".join(exc.messages))

    def save_related(self, request, form, formsets, change):
        pass  # a thread has no editable relations: its messages are posted by save_model

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, "L'échange est ouvert ; la famille reçoit le message par e-mail.")
        return HttpResponseRedirect(reverse("admin:exchanges_thread_change", args=[obj.pk]))

    def response_change(self, request, obj):
        if not getattr(obj, "send_failed", False):
            messages.success(request, "Votre réponse est envoyée à la famille.")
        return HttpResponseRedirect(reverse("admin:exchanges_thread_change", args=[obj.pk]))

    def get_urls(self):
        return [
            path(
                "piece-jointe/<int:pk>/",
                self.admin_site.admin_view(self.download_attachment),
                name="exchanges_attachment_download",
            ),
            *super().get_urls(),
        ]

    def download_attachment(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = get_object_or_404(Attachment, pk=pk)
        return serve_private_file(
            attachment.file,
            download_name=attachment.original_name,
            content_type=attachment.content_type,
        )
