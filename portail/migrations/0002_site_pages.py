"""The footer pages a town's site must publish, with a first text the staff can then edit."""

from django.db import migrations

PAGES = [
    (
        "accessibilite",
        "Déclaration d'accessibilité",
        """La Ville de Tassin la Demi-Lune s'engage à rendre ses services en ligne accessibles, conformément à l'article 47 de la loi n° 2005-102 du 11 février 2005.

Cette déclaration d'accessibilité s'applique au portail famille.

## État de conformité
Le portail famille est partiellement conforme avec le référentiel général d'amélioration de l'accessibilité (RGAA), version 4.1. Chaque page destinée aux familles est vérifiée automatiquement (axe-core) sur un écran d'ordinateur et sur un écran de téléphone de 360 pixels de large, et se parcourt entièrement au clavier.

## Contenus non accessibles
- Les justificatifs déposés par les familles (documents numérisés) ne sont pas soumis à l'obligation d'accessibilité.
- Les factures au format PDF reprennent les informations affichées dans la page « Mes factures », qui reste la version de référence accessible.

## Retour d'information et contact
Si vous n'arrivez pas à accéder à un contenu ou à un service, vous pouvez contacter le pôle éducation enfance de la mairie pour être orienté vers une alternative accessible ou obtenir le contenu sous une autre forme :
- par courriel : periscolaire@example.org ;
- par courrier : Mairie de Tassin la Demi-Lune, pôle éducation enfance, place de la Mairie, 69160 Tassin la Demi-Lune.

## Voies de recours
Si vous constatez un défaut d'accessibilité vous empêchant d'accéder à un contenu ou à une fonctionnalité, que vous nous l'avez signalé et que vous n'avez pas obtenu de réponse satisfaisante, vous êtes en droit de saisir le Défenseur des droits (formulaire en ligne, délégué de votre région, ou courrier gratuit sans affranchissement : Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07).""",
    ),
    (
        "mentions-legales",
        "Mentions légales",
        """## Éditeur
Ville de Tassin la Demi-Lune
Place de la Mairie, 69160 Tassin la Demi-Lune
Téléphone : 04 78 34 05 02

## Directeur de la publication
Le maire de Tassin la Demi-Lune.

## Gestion du service
Le service périscolaire et l'accueil de loisirs d'Alaï sont gérés pour la Ville par son délégataire. Les factures sont émises par les régies de recettes de la Ville ; les factures impayées à la date limite sont transmises au Trésor Public pour recouvrement.

## Hébergement
Le portail est hébergé en France par le prestataire d'hébergement retenu par la Ville. Ses coordonnées sont disponibles sur simple demande auprès du pôle éducation enfance.

## Propriété intellectuelle
Les contenus du portail sont la propriété de la Ville de Tassin la Demi-Lune, sauf mention contraire. Toute reproduction est soumise à autorisation.""",
    ),
    (
        "donnees-personnelles",
        "Données personnelles",
        """La Ville de Tassin la Demi-Lune traite les données personnelles nécessaires à l'inscription des enfants aux services périscolaires et à l'accueil de loisirs, à la réservation des créneaux, à la facturation et au paiement.

## Responsable du traitement
Le maire de Tassin la Demi-Lune. Délégué à la protection des données : dpo@example.org.

## Données traitées
- Identité et coordonnées des responsables légaux, adresse du foyer, quotient familial.
- Identité, date de naissance, école et classe des enfants ; personnes autorisées à venir les chercher ou à prévenir en cas d'urgence.
- Informations de santé que vous choisissez de communiquer (allergies, PAI) : elles ne sont visibles que du personnel habilité.
- Réservations, présences, factures et paiements. Les paiements par carte sont traités par un prestataire de paiement ; le portail ne conserve aucun numéro de carte.

## Base légale et finalités
Ces traitements relèvent de l'exécution d'une mission de service public (article 6-1-e du RGPD) : gestion des inscriptions, de l'accueil des enfants, de la facturation et du recouvrement.

## Durées de conservation
Les demandes en brouillon et les justificatifs sont supprimés à l'issue de la durée de conservation fixée par la Ville ; les factures et paiements sont conservés dix ans, conformément aux règles de la comptabilité publique.

## Vos droits
Vous disposez d'un droit d'accès, de rectification, de limitation et d'opposition. Vous pouvez exercer ces droits auprès du délégué à la protection des données. Si vous estimez, après nous avoir contactés, que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la CNIL.

## Cookies
Le portail n'utilise que les cookies strictement nécessaires à son fonctionnement (session de connexion, protection des formulaires). Aucun cookie de mesure d'audience ni de publicité n'est déposé.""",
    ),
]


def create_pages(apps, schema_editor):
    SitePage = apps.get_model("portail", "SitePage")
    for slug, title, body in PAGES:
        SitePage.objects.get_or_create(slug=slug, defaults={"title": title, "body": body})


class Migration(migrations.Migration):
    dependencies = [("portail", "0001_initial")]

    operations = [migrations.RunPython(create_pages, migrations.RunPython.noop)]
