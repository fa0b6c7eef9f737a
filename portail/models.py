from django.db import models
from django.urls import reverse


class SitePage(models.Model):
    """A page of the site's footer (Accessibilité, Mentions légales…), written by the staff."""

    class Slug(models.TextChoices):
        ACCESSIBILITY = "accessibilite", "Accessibilité"
        LEGAL = "mentions-legales", "Mentions légales"
        PRIVACY = "donnees-personnelles", "Données personnelles"

    slug = models.SlugField("page", max_length=40, unique=True, choices=Slug.choices)
    title = models.CharField("titre", max_length=150)
    body = models.TextField(
        "contenu",
        help_text=(
            "Texte simple : une ligne vide sépare les paragraphes ; une ligne commençant par « ## » "
            "est un intertitre, une ligne commençant par « - » un élément de liste."
        ),
    )
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)

    class Meta:
        verbose_name = "page d'information"
        verbose_name_plural = "pages d'information"
        ordering = ["slug"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse(
            {
                "accessibilite": "accessibility",
                "mentions-legales": "legal_notice",
                "donnees-personnelles": "privacy",
            }[self.slug]
        )
