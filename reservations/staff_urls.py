from django.urls import path

from .views import attendance

app_name = "pointage"

urlpatterns = [
    path("", attendance.attendance, name="attendance"),
    path("presence/", attendance.attendance_mark, name="attendance_mark"),
    path("sans-reservation/", attendance.attendance_walk_in, name="attendance_walk_in"),
    path("pdf/", attendance.attendance_pdf, name="attendance_pdf"),
]
