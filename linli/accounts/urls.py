from django.contrib.auth import views as auth_views
from django.urls import path

from linli.accounts import views

app_name = "accounts"
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.me, name="me"),
    # issue 12: sign in with an SMS code, change and reset a password, 长辈模式
    path("login/sms/", views.signin_sms, name="signin_sms"),
    path("login/sms/code/", views.signin_sms_code, name="signin_sms_code"),
    path("password/change/", views.password_change, name="password_change"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/code/", views.password_reset_code, name="password_reset_code"),
    path("elder/", views.elder_mode, name="elder_mode"),
    # owner verification (issue 8): self-service, then a worker's page per dwelling
    path("owner/verify/", views.owner_verify, name="owner_verify"),
    path("owner/verify/<linli_id:pk>/", views.owner_verify_code, name="owner_verify_code"),
    path("owners/dwelling/<linli_id:pk>/", views.owner_dwelling, name="owner_dwelling"),
    path("owners/dwelling/<linli_id:pk>/verify/", views.owner_in_person, name="owner_in_person"),
    path("owners/dwelling/<linli_id:pk>/unlock/", views.owner_unlock, name="owner_unlock"),
    path("owners/account/<linli_id:pk>/revoke/", views.owner_revoke, name="owner_revoke"),
]
