"""The outbox: what a request promised to do after its commit (an e-mail, a notice, a run),
written in the request's own transaction and carried out by the worker; and the e-mails of
batches already sent, so that a batch run again sends only the others."""

from django.db import models
from django.utils import timezone


class OutboxItem(models.Model):
    """One task to run once, by name, with its arguments; retried with backoff until it
    succeeds, then kept as a record of what went out."""

    class State(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENDING = "sending", "En cours d'envoi"
        DONE = "done", "Envoyé"
        FAILED = "failed", "En échec"

    task = models.CharField("tâche", max_length=200)
    label = models.CharField("objet", max_length=200, blank=True)
    args = models.JSONField("arguments", default=list, blank=True)
    kwargs = models.JSONField("arguments nommés", default=dict, blank=True)
    sensitive = models.BooleanField(
        "contenu effacé après l'envoi",
        default=False,
        help_text="Un e-mail portant un lien de connexion ou de réinitialisation : son contenu "
        "n'est pas gardé une fois envoyé.",
    )
    state = models.CharField(
        "état", max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur", blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    next_attempt_at = models.DateTimeField("prochaine tentative", default=timezone.now)
    delivered_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "envoi différé"
        verbose_name_plural = "envois différés (e-mails et avis)"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="outbox_pending_due",
            )
        ]

    def __str__(self):
        return self.label or self.task


class StoredDocument(models.Model):
    """A document the town issued (an invoice, a credit note, a tax certificate), rendered
    once and kept as bytes in the private storage. Its SHA-256 and size are recorded when it is
    stored: the file served later must be that one, byte for byte (see common.documents)."""

    path = models.CharField("fichier", max_length=255, unique=True)
    filename = models.CharField("nom du fichier", max_length=200)
    content_type = models.CharField("type", max_length=100, default="application/pdf")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("taille (octets)")
    created_at = models.DateTimeField("enregistré le", default=timezone.now)

    class Meta:
        verbose_name = "document conservé"
        verbose_name_plural = "documents conservés"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.filename


class SentEmail(models.Model):
    """One e-mail of a batch that the mail server accepted, by the key its sender gave it: a
    batch sent again after a failure (a refused address, a connection lost midway) sends only
    the e-mails not recorded here."""

    key = models.CharField("clé", max_length=200, unique=True)
    sent_at = models.DateTimeField("envoyé le", default=timezone.now)

    class Meta:
        verbose_name = "e-mail envoyé par lot"
        verbose_name_plural = "e-mails envoyés par lot"
        ordering = ["-sent_at", "-pk"]

    def __str__(self):
        return self.key
