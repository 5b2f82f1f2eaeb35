from django.urls import URLPattern, path

from . import views

app_name = "funds"

urlpatterns: list[URLPattern] = [
    path("", views.fund_list, name="fund_list"),
    path("new/", views.fund_create, name="fund_create"),
    path("<int:pk>/", views.fund_detail, name="fund_detail"),
    path("<int:pk>/receipt/", views.receipt_post, name="receipt_post"),
    path("<int:pk>/transfer/", views.transfer_post, name="transfer_post"),
    path("entries/<int:pk>/reverse/", views.entry_reverse, name="entry_reverse"),
]
