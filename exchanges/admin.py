from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

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
        label="Répondre à la famille",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="Le message est publié dans l'échange et envoyé par e-mail aux responsables du foyer.",
    )
    reply_attachments = MultipleDocumentField(label="Pièces jointes", required=False)

    class Meta:
        model = Thread
        fields = ["family", "subject"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not (cleaned.get("reply") or "").strip():
            self.add_error("reply", "Écrivez le premier message de l'échange.")
        return cleaned


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["created_at", "writer", "body", "files"]
    readonly_fields = fields
    verbose_name_plural = "conversation"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="auteur")
    def writer(self, obj):
        return obj.author_label

    @admin.display(description="pièces jointes")
    def files(self, obj):
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                (
                    (reverse("admin:exchanges_attachment_download", args=[a.pk]), a.original_name)
                    for a in obj.attachments.all()
                ),
            )
            or "—"
        )

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("author").prefetch_related("attachments")
        )


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    form = ThreadAdminForm
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
    inlines = [MessageInline]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["family", "subject", "reply", "reply_attachments"]})]
        return [
            (None, {"fields": ["family", "subject", "teleservice", "related_link", "created_at"]}),
            ("Répondre", {"fields": ["reply", "reply_attachments"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return ["family", "subject", "teleservice", "related_link", "created_at"] if obj else []

    @admin.display(description="non lu", boolean=True, ordering="office_unread")
    def unread_by_office(self, obj):
        return obj.office_unread

    @admin.display(description="objet lié")
    def related_link(self, obj):
        related = obj.related
        if related is None:
            return "—"
        url = reverse(
            f"admin:{related._meta.app_label}_{related._meta.model_name}_change", args=[related.pk]
        )
        return format_html('<a href="{}">{}</a>', url, related)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            thread = self.get_object(request, object_id)
            if thread is not None:
                services.thread_mark_read(thread=thread, side=Message.Side.OFFICE)
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
                )
                obj.pk, obj._state.adding, obj._state.db = thread.pk, False, thread._state.db
            elif body:
                services.message_post(
                    thread=obj,
                    side=Message.Side.OFFICE,
                    author=request.user,
                    body=body,
                    attachments=files,
                )
                messages.success(request, "Votre réponse est publiée et envoyée à la famille.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))

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
