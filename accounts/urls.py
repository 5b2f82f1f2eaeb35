from django.contrib.auth import views as auth_views
from django.urls import path

from . import token_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("audit/", views.audit_list, name="audit_list"),
    path("otp/verify/", views.otp_verify, name="otp_verify"),
    path("otp/enroll/", views.otp_enroll, name="otp_enroll"),
    path("otp/recovery/", views.otp_recovery, name="otp_recovery"),
    path("tokens/", token_views.api_tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", token_views.api_token_revoke, name="api_token_revoke"),
]
