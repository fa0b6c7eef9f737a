from django.urls import path

from . import views

app_name = "exchanges"

urlpatterns = [
    path("", views.thread_list, name="thread_list"),
    path("nouveau/", views.thread_create, name="thread_create"),
    path("<int:pk>/", views.thread_detail, name="thread_detail"),
    path("pieces-jointes/<int:pk>/", views.attachment_download, name="attachment_download"),
]
