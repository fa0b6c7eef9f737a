from django.urls import path

from . import views

app_name = "enrolment"

urlpatterns = [
    path("", views.request_list, name="request_list"),
    path("teleservices/", views.teleservice_list, name="teleservice_list"),
    path("nouvelle/<slug:slug>/", views.request_create, name="request_create"),
    path("<int:pk>/", views.request_detail, name="request_detail"),
    path("<int:pk>/modifier/", views.request_update, name="request_update"),
    path("<int:pk>/documents/<int:doc_pk>/", views.document_download, name="document_download"),
    path(
        "<int:pk>/documents/<int:doc_pk>/remplacer/",
        views.document_replace,
        name="document_replace",
    ),
    path("remplacer/<str:token>/", views.document_replace_link, name="document_replace_link"),
]
