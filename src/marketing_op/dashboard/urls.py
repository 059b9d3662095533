from django.urls import path

from marketing_op.dashboard import provider_sign_in, sign_in, views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("imports/", views.imports, name="imports"),
    path("sign-in/", sign_in.SignIn.as_view(), name="sign-in"),
    path("sign-in/provider/", provider_sign_in.provider_sign_in, name="provider-sign-in"),
    path(
        "sign-in/provider/callback/",
        provider_sign_in.provider_callback,
        name="provider-callback",
    ),
    path("sign-out/", sign_in.SignOut.as_view(), name="sign-out"),
]
