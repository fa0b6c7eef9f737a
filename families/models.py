import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

phone_validator = RegexValidator(
    r"^\+?[0-9 .\-]{10,20}$",
    "Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78.",
)


class School(models.Model):
    """A school of the town; children attend one, créneaux run in each."""

    class Level(models.TextChoices):
        MATERNELLE = "maternelle", "Maternelle"
        ELEMENTAIRE = "elementaire", "Élémentaire"
        PRIMAIRE = "primaire", "Primaire"

    name = models.CharField("nom", max_length=120, unique=True)
    level = models.CharField("niveau", max_length=20, choices=Level.choices, default=Level.PRIMAIRE)
    address = models.CharField("adresse", max_length=200, blank=True)
    is_active = models.BooleanField("active", default=True)

    class Meta:
        verbose_name = "école"
        verbose_name_plural = "écoles"
        ordering = ["name"]

    def __str__(self):
        return self.name


class SchoolYearQuerySet(models.QuerySet):
    def current(self, today: datetime.date):
        """The school year containing `today`; in the summer gap, the next one; else the latest."""
        year = self.filter(start_date__lte=today, end_date__gte=today).first()
        if year is None:
            year = self.filter(start_date__gt=today).order_by("start_date").first()
        if year is None:
            year = self.order_by("-start_date").first()
        return year


class SchoolYear(models.Model):
    """A school year, from the rentrée to the last day of class (e.g. 2026-2027)."""

    label = models.CharField(
        "année scolaire", max_length=9, unique=True, help_text="Par exemple 2026-2027."
    )
    start_date = models.DateField("rentrée")
    end_date = models.DateField("dernier jour de classe")

    objects = SchoolYearQuerySet.as_manager()

    class Meta:
        verbose_name = "année scolaire"
        verbose_name_plural = "années scolaires"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("start_date")),
                name="schoolyear_end_after_start",
                violation_error_message="La fin de l'année doit suivre la rentrée.",
            )
        ]

    def __str__(self):
        return self.label

    def contains(self, day: datetime.date) -> bool:
        return self.start_date <= day <= self.end_date


class FamilyQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(pk=family.pk if family else None)


class Family(models.Model):
    """A household (foyer): one or more guardians sharing children, an address and a QF."""

    name = models.CharField(
        "nom du foyer", max_length=150, help_text="Nom de famille, par exemple LAGRANGE."
    )
    address = models.CharField("adresse", max_length=200)
    address_complement = models.CharField("complément d'adresse", max_length=200, blank=True)
    postal_code = models.CharField(
        "code postal",
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", "Le code postal compte 5 chiffres.")],
    )
    city = models.CharField("commune", max_length=100)
    phone = models.CharField(
        "téléphone du foyer", max_length=20, blank=True, validators=[phone_validator]
    )
    quotient_familial = models.PositiveIntegerField(
        "quotient familial",
        null=True,
        blank=True,
        help_text="En euros, d'après l'attestation CAF validée.",
    )
    quotient_valid_until = models.DateField("QF valable jusqu'au", null=True, blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    objects = FamilyQuerySet.as_manager()

    class Meta:
        verbose_name = "foyer"
        verbose_name_plural = "foyers"
        ordering = ["name", "pk"]

    def __str__(self):
        return f"Foyer {self.name}"

    def get_absolute_url(self):
        return reverse("families:family_detail")

    def valid_quotient(self, today: datetime.date):
        """The QF that applies on `today`, or None (none set, or past its validity date)."""
        if self.quotient_familial is None or self.quotient_valid_until is None:
            return None
        return self.quotient_familial if today <= self.quotient_valid_until else None


class Guardian(models.Model):
    """A user's membership of a family as one of its legal guardians (responsables légaux)."""

    class Relationship(models.TextChoices):
        MOTHER = "mere", "Mère"
        FATHER = "pere", "Père"
        TUTOR = "tuteur", "Tuteur ou tutrice"
        OTHER = "autre", "Autre responsable légal"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="guardian",
        verbose_name="compte",
    )
    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="guardians", verbose_name="foyer"
    )
    relationship = models.CharField(
        "lien avec les enfants", max_length=10, choices=Relationship.choices
    )
    mobile_phone = models.CharField(
        "téléphone portable", max_length=20, validators=[phone_validator]
    )
    work_phone = models.CharField(
        "téléphone professionnel", max_length=20, blank=True, validators=[phone_validator]
    )
    created_at = models.DateTimeField("rattaché le", auto_now_add=True)

    class Meta:
        verbose_name = "responsable légal"
        verbose_name_plural = "responsables légaux"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.email} ({self.get_relationship_display()})"


class GuardianInvitationQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(family=family) if family else self.none()

    def pending(self, now):
        """Invitations that can still be accepted at `now`."""
        return self.filter(status=GuardianInvitation.Status.PENDING, expires_at__gt=now)


class InvitationState:
    """The states of a single-use invitation (pending until `expires_at`, accepted, revoked) as
    staff and parents read them; each invitation says whom to ask for a new one."""

    WHO_INVITES_AGAIN = "au parent qui vous l'a envoyée"

    def is_pending(self, now) -> bool:
        return self.status == self.Status.PENDING and now < self.expires_at

    def state_label(self, now) -> str:
        """The state as staff and parents read it, expiry included."""
        if self.status == self.Status.PENDING and now >= self.expires_at:
            return "Expirée"
        return self.get_status_display()

    def refusal_reason(self, now) -> str:
        """Why the invitation can no longer be accepted, in French; empty while it can."""
        if self.status == self.Status.ACCEPTED:
            return (
                "Cette invitation a déjà été utilisée : un lien d'invitation ne sert qu'une fois."
            )
        if self.status == self.Status.REVOKED:
            return "Cette invitation a été annulée par le foyer qui l'avait envoyée."
        if now >= self.expires_at:
            return (
                f"Cette invitation a expiré. Demandez {self.WHO_INVITES_AGAIN} de vous inviter "
                "à nouveau depuis « Mon foyer »."
            )
        return ""


class GuardianInvitation(InvitationState, models.Model):
    """An invitation sent by a guardian to another person (the other parent) to join the family.

    Only a hash of the token is stored: the link in the e-mail is the only copy of the token.
    Single use, bound to the invited address, valid until `expires_at`, revocable while pending.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        ACCEPTED = "accepted", "Acceptée"
        REVOKED = "revoked", "Annulée"

    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="invitations", verbose_name="foyer"
    )
    email = models.EmailField("adresse invitée")
    token_hash = models.CharField("empreinte du jeton", max_length=64, unique=True, editable=False)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="invité par",
    )
    created_at = models.DateTimeField("envoyée le", default=timezone.now)
    expires_at = models.DateTimeField("valable jusqu'au")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="acceptée par",
    )
    accepted_at = models.DateTimeField("acceptée le", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="annulée par",
    )
    revoked_at = models.DateTimeField("annulée le", null=True, blank=True)

    objects = GuardianInvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "invitation à rejoindre un foyer"
        verbose_name_plural = "invitations à rejoindre un foyer"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Invitation de {self.email} au {self.family}"

    def mark_accepted(self, *, user, now):
        """Pending → accepted (once)."""
        if not self.is_pending(now):
            raise ValidationError(self.refusal_reason(now))
        self.status = self.Status.ACCEPTED
        self.accepted_by = user
        self.accepted_at = now
        self.save(update_fields=["status", "accepted_by", "accepted_at"])

    def mark_revoked(self, *, by, now):
        """Pending → revoked; an accepted or expired invitation stays as it is."""
        if not self.is_pending(now):
            raise ValidationError(self.refusal_reason(now))
        self.status = self.Status.REVOKED
        self.revoked_by = by
        self.revoked_at = now
        self.save(update_fields=["status", "revoked_by", "revoked_at"])


class GuardianEvent(models.Model):
    """The history of a family's membership — who joined or left, when, and who did it — and of
    the downloads of its data by its guardians (« Mes données »)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Création du dossier famille"
        INVITED = "invited", "Invitation envoyée"
        INVITATION_REVOKED = "invitation_revoked", "Invitation annulée"
        JOINED = "joined", "Rattachement par invitation"
        ADDED_BY_STAFF = "added_by_staff", "Rattachement par le pôle administratif"
        LEFT = "left", "Départ du foyer"
        DETACHED = "detached", "Détachement par le pôle administratif"
        DATA_DOWNLOADED = "data_downloaded", "Téléchargement des données du foyer"

    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="guardian_events", verbose_name="foyer"
    )
    kind = models.CharField("événement", max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="responsable concerné",
    )
    email = models.EmailField(
        "adresse concernée", help_text="Conservée même si le compte est supprimé."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    invitation = models.ForeignKey(
        GuardianInvitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name="invitation",
    )
    note = models.TextField("remarque", blank=True)
    at = models.DateTimeField("date", default=timezone.now)

    class Meta:
        verbose_name = "historique des responsables"
        verbose_name_plural = "historique des responsables"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.email}"


class ChildQuerySet(models.QuerySet):
    def for_family(self, family):
        """The children whose record `family` keeps (its own children)."""
        return self.filter(family=family) if family else self.none()

    def in_household(self, family):
        """The children `family` looks after: its own, and those it shares as their second
        household (résidence alternée), whose record the first household keeps."""
        return self.in_households([family.pk]) if family else self.none()

    def in_households(self, family_ids):
        """The children the families of `family_ids` look after (see `in_household`)."""
        family_ids = list(family_ids)
        # The ids of both kinds in one subquery, each read through an index, rather than an
        # OR across a join, which reads every child of the town.
        ids = (
            Child.objects.filter(family_id__in=family_ids)
            .order_by()
            .values("pk")
            .union(
                ChildHousehold.objects.filter(family_id__in=family_ids).order_by().values("child")
            )
        )
        return self.filter(pk__in=ids)


class Child(models.Model):
    """A child of a family, with what the animateurs need to know to look after them."""

    class Sex(models.TextChoices):
        GIRL = "F", "Fille"
        BOY = "M", "Garçon"

    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="children", verbose_name="foyer"
    )
    last_name = models.CharField("nom", max_length=150)
    first_name = models.CharField("prénom", max_length=150)
    birth_date = models.DateField("date de naissance")
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices, blank=True)
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="école",
    )
    school_class = models.CharField(
        "classe", max_length=30, blank=True, help_text="Par exemple CP, CE2, MS."
    )
    health_notes = models.TextField(
        "informations de santé",
        blank=True,
        help_text="Allergies, traitement, PAI… Visibles seulement du personnel habilité.",
    )
    has_pai = models.BooleanField(
        "projet d'accueil individualisé (PAI)",
        default=False,
        help_text="Un PAI signé par le médecin scolaire encadre l'accueil de l'enfant.",
    )
    canteen = models.BooleanField("déjeune à la cantine", default=False)
    image_rights = models.BooleanField(
        "droit à l'image",
        default=False,
        help_text="L'enfant peut être photographié ou filmé lors des activités (usage municipal).",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name = "enfant"
        verbose_name_plural = "enfants"
        ordering = ["birth_date", "first_name", "pk"]
        permissions = [
            ("view_health_notes", "Peut voir et modifier les informations de santé des enfants")
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("families:child_update", args=[self.pk])

    @property
    def full_name(self):
        return f"{self.last_name.upper()} {self.first_name}"

    def household_family_ids(self) -> list[int]:
        """The ids of the child's households: its family, then its second household if any
        (résidence alternée)."""
        second = ChildHousehold.objects.filter(child=self).values_list("family_id", flat=True)
        return [self.family_id, *second]

    def age_on(self, day: datetime.date) -> int:
        """Age in whole years on `day`."""
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class ChildContactQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(child__family=family) if family else self.none()


class ChildContact(models.Model):
    """A person allowed to pick the child up, or to call in an emergency (or both)."""

    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="contacts", verbose_name="enfant"
    )
    full_name = models.CharField("nom et prénom", max_length=150)
    relationship = models.CharField(
        "lien avec l'enfant", max_length=60, help_text="Par exemple grand-mère, voisin."
    )
    phone = models.CharField("téléphone", max_length=20, validators=[phone_validator])
    can_pick_up = models.BooleanField("peut venir chercher l'enfant", default=True)
    is_emergency_contact = models.BooleanField("à prévenir en cas d'urgence", default=False)

    objects = ChildContactQuerySet.as_manager()

    class Meta:
        verbose_name = "personne autorisée ou à prévenir"
        verbose_name_plural = "personnes autorisées ou à prévenir"
        ordering = ["pk"]

    def __str__(self):
        return f"{self.full_name} ({self.relationship})"


class ChildHousehold(models.Model):
    """A child's second household (résidence alternée): another family, with its own guardians,
    address and QF, that books the child on its own days and is invoiced for them alone. The
    child's record, enrolments and requests stay with the first household (`Child.family`);
    each household sees the other's bookings only as « Réservé par l'autre foyer »."""

    class Origin(models.TextChoices):
        OFFICE = "office", "Rattachement par le pôle administratif"
        INVITATION = "invitation", "Invitation acceptée"

    child = models.OneToOneField(
        Child, on_delete=models.CASCADE, related_name="second_household", verbose_name="enfant"
    )
    family = models.ForeignKey(
        Family,
        on_delete=models.CASCADE,
        related_name="shared_children",
        verbose_name="second foyer",
        help_text="Le foyer de l'autre parent, qui réserve et paie ses propres jours.",
    )
    origin = models.CharField(
        "origine", max_length=10, choices=Origin.choices, default=Origin.OFFICE
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="rattaché par",
    )
    linked_at = models.DateTimeField("rattaché le", default=timezone.now)

    class Meta:
        verbose_name = "second foyer (résidence alternée)"
        verbose_name_plural = "seconds foyers (résidence alternée)"
        ordering = ["-linked_at", "-pk"]

    def __str__(self):
        return f"{self.child} — second foyer : {self.family.name}"

    def clean(self):
        if self.child_id and self.family_id and self.child.family_id == self.family_id:
            raise ValidationError(
                {"family": "Le second foyer doit être un autre foyer que celui de l'enfant."}
            )


class ChildHouseholdInvitationQuerySet(models.QuerySet):
    def for_family(self, family):
        """Invitations sent by `family` (the child's first household)."""
        return self.filter(child__family=family) if family else self.none()

    def pending(self, now):
        return self.filter(status=GuardianInvitation.Status.PENDING, expires_at__gt=now)


class ChildHouseholdInvitation(InvitationState, models.Model):
    """An invitation the first household sends to the other parent, whose own family becomes
    the child's second household once they accept it (signed in, with their family file).

    As for GuardianInvitation: only a hash of the token is stored, single use, bound to the
    invited address, valid until `expires_at`, revocable while pending."""

    Status = GuardianInvitation.Status
    WHO_INVITES_AGAIN = "à l'autre parent"

    child = models.ForeignKey(
        Child,
        on_delete=models.CASCADE,
        related_name="household_invitations",
        verbose_name="enfant",
    )
    email = models.EmailField("adresse invitée")
    token_hash = models.CharField("empreinte du jeton", max_length=64, unique=True, editable=False)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="invité par",
    )
    created_at = models.DateTimeField("envoyée le", default=timezone.now)
    expires_at = models.DateTimeField("valable jusqu'au")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="acceptée par",
    )
    accepted_at = models.DateTimeField("acceptée le", null=True, blank=True)
    revoked_at = models.DateTimeField("annulée le", null=True, blank=True)

    objects = ChildHouseholdInvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "invitation d'un second foyer"
        verbose_name_plural = "invitations d'un second foyer"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Invitation de {self.email} comme second foyer de {self.child}"
