from django.urls import path

from .views import followup, intake, kin, lifecycle, offline
from .views import households as views

app_name = "cases"

urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/member-row/", views.member_form_row, name="member_form_row"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/reveal/", views.household_reveal, name="household_reveal"),
    path("households/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    *intake.urlpatterns,
    *followup.urlpatterns,
    *lifecycle.urlpatterns,
    *offline.urlpatterns,
    *kin.urlpatterns,
]
