from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone

from common.files import get_private_storage, random_upload_path
from families.models import Family


def attachment_upload_to(instance, filename):
    return random_upload_path("echanges", filename)


class ThreadQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(family=family) if family else self.none()

    def unread_by_family(self):
        return self.filter(family_unread=True)

    def unread_by_office(self):
        return self.filter(office_unread=True)

    def about(self, related):
        """The threads linked to `related` (a request, an invoice…), whatever the family."""
        return self.filter(
            related_type=ContentType.objects.get_for_model(related), related_id=related.pk
        )


class Thread(models.Model):
    """A conversation between one family and the office, possibly about a request or an invoice."""

    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="threads", verbose_name="foyer"
    )
    subject = models.CharField("objet", max_length=200)
    related_type = models.ForeignKey(
        ContentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name="type de l'objet lié",
    )
    related_id = models.PositiveBigIntegerField("identifiant de l'objet lié", null=True, blank=True)
    related = GenericForeignKey("related_type", "related_id")
    teleservice = models.CharField(
        "téléservice",
        max_length=200,
        blank=True,
        help_text="Le téléservice ou la régie concerné, s'il y en a un.",
    )
    family_unread = models.BooleanField("non lu par la famille", default=False)
    office_unread = models.BooleanField("non lu par le service", default=False)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    last_message_at = models.DateTimeField("dernier message le", auto_now_add=True)

    objects = ThreadQuerySet.as_manager()

    class Meta:
        verbose_name = "échange"
        verbose_name_plural = "échanges"
        ordering = ["-last_message_at", "-pk"]
        indexes = [
            models.Index(fields=["family", "-last_message_at"], name="thread_family_recent"),
            models.Index(fields=["family", "family_unread"], name="thread_family_unread"),
            models.Index(fields=["related_type", "related_id"], name="thread_related"),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("exchanges:thread_detail", args=[self.pk])


class Message(models.Model):
    """One message of a thread, written by a guardian or by the office."""

    class Side(models.TextChoices):
        FAMILY = "famille", "Famille"
        OFFICE = "service", "Pôle administratif"

    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, related_name="messages", verbose_name="échange"
    )
    side = models.CharField("côté", max_length=10, choices=Side.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name="auteur",
    )
    body = models.TextField("message")
    created_at = models.DateTimeField("envoyé le", auto_now_add=True)

    class Meta:
        verbose_name = "message"
        verbose_name_plural = "messages"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_side_display()} — {timezone.localtime(self.created_at):%d/%m/%Y %H:%M}"

    @property
    def author_label(self):
        if self.side == self.Side.OFFICE:
            return "Pôle administratif"
        return self.author.get_full_name() or self.author.email if self.author else "Famille"


class AttachmentQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(message__thread__family=family) if family else self.none()


class Attachment(models.Model):
    """A document joined to a message, stored privately under a random name."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name="message"
    )
    file = models.FileField("fichier", storage=get_private_storage, upload_to=attachment_upload_to)
    original_name = models.CharField("nom d'origine", max_length=150)
    content_type = models.CharField("type", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["pk"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("exchanges:attachment_download", args=[self.pk])
