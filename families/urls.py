from django.urls import path

from . import views

app_name = "families"

urlpatterns = [
    path("", views.family_detail, name="family_detail"),
    path("creer/", views.family_create, name="family_create"),
    path("modifier/", views.family_update, name="family_update"),
    path("enfants/ajouter/", views.child_create, name="child_create"),
    path("enfants/<int:pk>/", views.child_update, name="child_update"),
]
