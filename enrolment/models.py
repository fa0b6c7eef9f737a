"""Services, yearly téléservices, the requests families file through them, and enrolments.

A request (demande) goes brouillon → en traitement → clos or refusé; each of its documents is
reviewed on its own (en attente / validé / refusé / à mettre à jour). Accepting a request creates
the child's effective Enrolment in the téléservice's service for its school year.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from common.files import get_private_storage, random_upload_path
from common.states import StateMachine
from families.models import Child, Family, SchoolYear


def request_document_upload_to(instance, filename):
    """Where a request's document is stored: a random name under demandes/."""
    return random_upload_path("demandes", filename)


class Service(models.Model):
    """A service of the town a child is enrolled in for a school year (périscolaire, Alaï)."""

    slug = models.SlugField("identifiant", max_length=50, unique=True)
    label = models.CharField("nom", max_length=150)
    min_age = models.PositiveSmallIntegerField(
        "âge minimum", null=True, blank=True, help_text="Au 1er septembre de l'année scolaire."
    )
    max_age = models.PositiveSmallIntegerField(
        "âge maximum", null=True, blank=True, help_text="Au 1er septembre de l'année scolaire."
    )

    class Meta:
        verbose_name = "service"
        verbose_name_plural = "services"
        ordering = ["label"]

    def __str__(self):
        return self.label

    def age_refusal(self, child: Child, school_year: SchoolYear) -> str:
        """Why `child` is too young or too old for the service that year; empty when eligible."""
        if self.min_age is None and self.max_age is None:
            return ""
        reference = datetime.date(school_year.start_date.year, 9, 1)
        age = child.age_on(reference)
        too_young = self.min_age is not None and age < self.min_age
        too_old = self.max_age is not None and age > self.max_age
        if not (too_young or too_old):
            return ""
        bounds = (
            f"de {self.min_age} à {self.max_age} ans"
            if self.min_age is not None and self.max_age is not None
            else (
                f"à partir de {self.min_age} ans"
                if self.min_age is not None
                else f"jusqu'à {self.max_age} ans"
            )
        )
        return (
            f"{child.first_name} aura {age} ans au 1er septembre {reference.year} : "
            f"« {self.label} » accueille les enfants {bounds}."
        )


class DocumentType(models.Model):
    """A kind of supporting document (justificatif) a téléservice may ask for."""

    slug = models.SlugField("identifiant", max_length=50, unique=True)
    name = models.CharField("nom", max_length=150)
    description = models.TextField(
        "description", blank=True, help_text="Affichée aux familles sous le champ d'envoi."
    )

    class Meta:
        verbose_name = "type de justificatif"
        verbose_name_plural = "types de justificatifs"
        ordering = ["name"]

    def __str__(self):
        return self.name


class TeleserviceQuerySet(models.QuerySet):
    def open_on(self, day: datetime.date):
        """Téléservices open on `day`."""
        return self.filter(opens_on__lte=day, closes_on__gte=day)


class Teleservice(models.Model):
    """A yearly request form of a kind (its questions are written in code, see enrolment.kinds)."""

    class Kind(models.TextChoices):
        PERISCOLAIRE = "periscolaire", "Inscription au périscolaire"
        ALAI = "alai", "Inscription à l'accueil de loisirs d'Alaï"
        PRELEVEMENT = "prelevement", "Prélèvement automatique"

    kind = models.CharField("type de demande", max_length=20, choices=Kind.choices)
    label = models.CharField("intitulé", max_length=200)
    slug = models.SlugField("identifiant dans l'adresse", max_length=80, unique=True)
    description = models.TextField("présentation", blank=True)
    school_year = models.ForeignKey(
        SchoolYear,
        on_delete=models.PROTECT,
        related_name="teleservices",
        verbose_name="année scolaire",
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teleservices",
        verbose_name="service",
        help_text="Le service dans lequel l'enfant est inscrit quand la demande est acceptée.",
    )
    opens_on = models.DateField("ouvert à partir du")
    closes_on = models.DateField("ouvert jusqu'au")
    document_types = models.ManyToManyField(
        DocumentType,
        through="TeleserviceDocument",
        related_name="teleservices",
        verbose_name="justificatifs",
        blank=True,
    )

    objects = TeleserviceQuerySet.as_manager()

    class Meta:
        verbose_name = "téléservice"
        verbose_name_plural = "téléservices"
        ordering = ["-school_year__start_date", "label"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")),
                name="teleservice_closes_after_opens",
                violation_error_message="La date de fermeture doit suivre la date d'ouverture.",
            )
        ]

    def __str__(self):
        if str(self.school_year.start_date.year) in self.label:
            return self.label
        return f"{self.label} ({self.school_year})"

    def get_absolute_url(self):
        return reverse("enrolment:request_create", args=[self.slug])

    def is_open(self, day: datetime.date) -> bool:
        """Whether families may file requests through this téléservice on `day`."""
        return self.opens_on <= day <= self.closes_on


class TeleserviceDocument(models.Model):
    """A document type asked by a téléservice: required, optional, or required on an answer."""

    class Requirement(models.TextChoices):
        REQUIRED = "required", "Obligatoire"
        OPTIONAL = "optional", "Facultatif"
        CONDITIONAL = "conditional", "Obligatoire selon une réponse"

    teleservice = models.ForeignKey(
        Teleservice,
        on_delete=models.CASCADE,
        related_name="document_rules",
        verbose_name="téléservice",
    )
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="rules", verbose_name="justificatif"
    )
    requirement = models.CharField(
        "exigence", max_length=20, choices=Requirement.choices, default=Requirement.REQUIRED
    )

    class Condition(models.TextChoices):
        """The yes/no answers of the request forms a document can depend on (see enrolment.kinds)."""

        SHARED_CUSTODY = "shared_custody", "La garde de l'enfant est partagée"
        HAS_PAI = "has_pai", "L'enfant a un PAI"
        CANTEEN = "canteen", "L'enfant déjeune à la cantine"

    condition = models.CharField(
        "réponse qui le rend obligatoire",
        max_length=50,
        blank=True,
        choices=Condition.choices,
        help_text="Pour « Obligatoire selon une réponse » : la réponse « oui » qui rend le justificatif "
        "obligatoire.",
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "justificatif demandé"
        verbose_name_plural = "justificatifs demandés"
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["teleservice", "document_type"],
                name="teleservice_document_once",
                violation_error_message="Ce justificatif est déjà demandé par ce téléservice.",
            )
        ]

    def __str__(self):
        return f"{self.document_type} ({self.get_requirement_display().lower()})"

    def clean(self):
        if self.requirement == self.Requirement.CONDITIONAL and not self.condition:
            raise ValidationError(
                {"condition": "Indiquez la réponse qui rend ce justificatif obligatoire."}
            )

    def is_required(self, answers: dict) -> bool:
        """Whether the document must be sent, given the request's yes/no `answers`."""
        if self.requirement == self.Requirement.REQUIRED:
            return True
        if self.requirement == self.Requirement.CONDITIONAL:
            return bool((answers or {}).get(self.condition))
        return False


class RequestState(models.TextChoices):
    """The states of a request (demande); also `EnrolmentRequest.State`."""

    DRAFT = "brouillon", "Brouillon"
    SUBMITTED = "en_traitement", "En traitement"
    CLOSED = "clos", "Clos"
    REFUSED = "refuse", "Refusé"


class RequestQuerySet(models.QuerySet):
    def for_family(self, family):
        """The requests of `family` (none without a family)."""
        return self.filter(family=family) if family else self.none()

    def blocking(self):
        """Requests that forbid a second one for the same child, kind and year (all but refused)."""
        return self.exclude(state=RequestState.REFUSED)

    def waiting_on_family(self):
        """Requests in progress that wait for the family: a document refused or to update."""
        return self.filter(
            state=RequestState.SUBMITTED,
            pk__in=RequestDocument.objects.filter(
                state__in=[RequestDocument.State.REFUSED, RequestDocument.State.TO_UPDATE]
            ).values("request"),
        )


class EnrolmentRequest(StateMachine, models.Model):
    """A family's request (demande) through a téléservice, usually for one child."""

    State = RequestState

    STATE_FIELD = "state"
    # The only moves a request may make; anything else raises ValidationError.
    TRANSITIONS = {
        State.DRAFT: {State.SUBMITTED},
        State.SUBMITTED: {State.CLOSED, State.REFUSED},
        State.CLOSED: set(),
        State.REFUSED: set(),
    }

    # Set right after the first save, from the primary key: NULL until then (unique allows many).
    number = models.CharField("numéro", max_length=20, unique=True, null=True, editable=False)  # noqa: DJ001
    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="enrolment_requests", verbose_name="foyer"
    )
    child = models.ForeignKey(
        Child,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="enrolment_requests",
        verbose_name="enfant",
    )
    teleservice = models.ForeignKey(
        Teleservice, on_delete=models.PROTECT, related_name="requests", verbose_name="téléservice"
    )
    kind = models.CharField(
        "type de demande", max_length=20, choices=Teleservice.Kind.choices, editable=False
    )
    school_year = models.ForeignKey(
        SchoolYear,
        on_delete=models.PROTECT,
        related_name="enrolment_requests",
        verbose_name="année scolaire",
    )
    state = models.CharField("état", max_length=20, choices=State.choices, default=State.DRAFT)
    answers = models.JSONField("réponses", default=dict, blank=True)
    refusal_reason = models.TextField("motif du refus", blank=True)
    needs_review = models.BooleanField(
        "documents à revoir", default=False, help_text="Un justificatif attend une vérification."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="créée par",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    updated_at = models.DateTimeField("modifiée le", default=timezone.now)
    submitted_at = models.DateTimeField("envoyée le", null=True, blank=True)
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décidée par",
    )

    objects = RequestQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["answers", "updated_at"], verbose_name="historique de la demande"
    )

    class Meta:
        verbose_name = "demande"
        verbose_name_plural = "demandes"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["family", "-created_at"], name="request_family_recent"),
            models.Index(fields=["state", "needs_review"], name="request_state_review"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "kind", "school_year"],
                condition=~models.Q(state=RequestState.REFUSED),
                name="request_one_live_per_child_kind_year",
                violation_error_message="Une demande existe déjà pour cet enfant cette année.",
            )
        ]

    def __str__(self):
        return f"Demande {self.number or '(nouvelle)'}"

    def get_absolute_url(self):
        return reverse("enrolment:request_detail", args=[self.pk])

    def get_parent_url(self):
        """The request's page on the parents' side (what Échanges links a message to)."""
        return self.get_absolute_url()

    @property
    def parent_link_label(self) -> str:
        return f"Voir la demande n° {self.number}"

    @property
    def teleservice_label(self):
        """The label of the request's téléservice."""
        return self.teleservice.label

    @property
    def state_badge(self) -> str:
        """The Bootstrap colour of the state badge (always shown with its text)."""
        return {
            self.State.DRAFT: "secondary",
            self.State.SUBMITTED: "primary",
            self.State.CLOSED: "success",
            self.State.REFUSED: "danger",
        }[self.state]

    @property
    def is_editable(self) -> bool:
        """Whether the family may still change the request (a draft)."""
        return self.state == self.State.DRAFT

    def move_refused_message(self, state) -> str:
        """The sentence of a refused move, with the states' labels as the family reads them."""
        return f"Une demande « {self.get_state_display()} » ne peut pas passer à « {self.State(state).label} »."


class RequestDocumentQuerySet(models.QuerySet):
    def for_family(self, family):
        """The documents of `family`'s requests (none without a family)."""
        return self.filter(request__family=family) if family else self.none()

    def to_review(self):
        """Documents waiting for the office's check."""
        return self.filter(state=RequestDocument.State.PENDING)


class RequestDocument(StateMachine, models.Model):
    """One supporting document of a request, reviewed on its own by the office."""

    class State(models.TextChoices):
        PENDING = "en_attente", "En attente de vérification"
        VALIDATED = "valide", "Validé"
        REFUSED = "refuse", "Refusé"
        TO_UPDATE = "a_mettre_a_jour", "À mettre à jour"

    STATE_FIELD = "state"
    TRANSITIONS = {
        State.PENDING: {State.VALIDATED, State.REFUSED, State.TO_UPDATE, State.PENDING},
        State.VALIDATED: {State.REFUSED, State.TO_UPDATE, State.PENDING},
        State.REFUSED: {State.PENDING},
        State.TO_UPDATE: {State.PENDING},
    }

    request = models.ForeignKey(
        EnrolmentRequest, on_delete=models.CASCADE, related_name="documents", verbose_name="demande"
    )
    document_type = models.ForeignKey(
        DocumentType,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name="justificatif",
    )
    file = models.FileField(
        "fichier", storage=get_private_storage, upload_to=request_document_upload_to, blank=True
    )
    original_name = models.CharField("nom d'origine", max_length=150, blank=True)
    content_type = models.CharField("type", max_length=50, blank=True)
    size = models.PositiveIntegerField("taille (octets)", default=0)
    state = models.CharField("état", max_length=20, choices=State.choices, default=State.PENDING)
    reason = models.TextField("motif", blank=True)
    uploaded_at = models.DateTimeField("envoyé le", default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="envoyé par",
    )
    reviewed_at = models.DateTimeField("vérifié le", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="vérifié par",
    )
    replace_nonce = models.CharField(
        "jeton de remplacement",
        max_length=32,
        blank=True,
        editable=False,
        help_text="Rend le lien de remplacement envoyé par e-mail utilisable une seule fois.",
    )

    objects = RequestDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = "justificatif"
        verbose_name_plural = "justificatifs"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "document_type"],
                name="request_document_once",
                violation_error_message="Ce justificatif est déjà joint à la demande.",
            )
        ]

    def __str__(self):
        return f"{self.document_type} — {self.original_name or 'sans fichier'}"

    def get_absolute_url(self):
        return reverse("enrolment:document_download", args=[self.request_id, self.pk])

    @property
    def state_badge(self) -> str:
        """The Bootstrap colour of the state badge (always shown with its text)."""
        return {
            self.State.PENDING: "secondary",
            self.State.VALIDATED: "success",
            self.State.REFUSED: "danger",
            self.State.TO_UPDATE: "warning",
        }[self.state]

    @property
    def needs_replacement(self) -> bool:
        """Whether the family is asked for a new file (refused or to update)."""
        return self.state in (self.State.REFUSED, self.State.TO_UPDATE)

    def move_refused_message(self, state) -> str:
        """The sentence of a refused move, with the states' labels as the office reads them."""
        return f"Un justificatif « {self.get_state_display()} » ne peut pas passer à « {self.State(state).label} »."


class RequestEvent(models.Model):
    """One dated line of a request's timeline: who did what. Shown to the family."""

    request = models.ForeignKey(
        EnrolmentRequest, on_delete=models.CASCADE, related_name="events", verbose_name="demande"
    )
    at = models.DateTimeField("date", default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    actor_label = models.CharField("auteur affiché", max_length=150)
    message = models.TextField("événement")

    class Meta:
        verbose_name = "événement de la demande"
        verbose_name_plural = "historique des demandes"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.at:%d/%m/%Y %H:%M} — {self.message}"


class EnrolmentQuerySet(models.QuerySet):
    def for_family(self, family):
        """The enrolments of `family`'s children (none without a family)."""
        return self.filter(child__family=family) if family else self.none()

    def effective(self, school_year, on: datetime.date | None = None):
        """Enrolments of `school_year` already in effect (on `on`, when given)."""
        queryset = self.filter(school_year=school_year)
        if on is not None:
            queryset = queryset.filter(effective_on__lte=on)
        return queryset


class Enrolment(models.Model):
    """A child's effective enrolment in a service for a school year (created on acceptance)."""

    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="enrolments", verbose_name="enfant"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="enrolments", verbose_name="service"
    )
    school_year = models.ForeignKey(
        SchoolYear,
        on_delete=models.PROTECT,
        related_name="enrolments",
        verbose_name="année scolaire",
    )
    effective_on = models.DateField("effective à partir du")
    request = models.ForeignKey(
        EnrolmentRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enrolments",
        verbose_name="demande",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = "inscription"
        verbose_name_plural = "inscriptions"
        ordering = ["school_year", "child", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "service", "school_year"],
                name="enrolment_once_per_child_service_year",
                violation_error_message="Cet enfant est déjà inscrit à ce service cette année.",
            )
        ]

    def __str__(self):
        return f"{self.child} — {self.service} {self.school_year}"
