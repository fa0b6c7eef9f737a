from django.urls import path

from . import views

app_name = "families"

urlpatterns = [
    path("", views.family_detail, name="family_detail"),
    path("creer/", views.family_create, name="family_create"),
    path("modifier/", views.family_update, name="family_update"),
    path("enfants/ajouter/", views.child_create, name="child_create"),
    path("enfants/<int:pk>/", views.child_update, name="child_update"),
    path("quitter/", views.family_leave, name="family_leave"),
    path("invitations/nouvelle/", views.invitation_create, name="invitation_create"),
    path("invitations/<int:pk>/annuler/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/accepter/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path(
        "enfants/<int:pk>/second-foyer/",
        views.household_invite,
        name="household_invite",
    ),
    path(
        "second-foyer/invitations/<int:pk>/annuler/",
        views.household_invitation_revoke,
        name="household_invitation_revoke",
    ),
    path(
        "second-foyer/accepter/<str:token>/",
        views.household_accept,
        name="household_accept",
    ),
]
