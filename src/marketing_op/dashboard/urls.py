from django.urls import path

from marketing_op.dashboard import sign_in, views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("imports/", views.imports, name="imports"),
    path("sign-in/", sign_in.SignIn.as_view(), name="sign-in"),
    path("sign-out/", sign_in.SignOut.as_view(), name="sign-out"),
]
