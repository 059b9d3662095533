"""Sign-in and sign-out of the dashboard: Django's authentication form and views, with the
lock-outs of the token exchange (``accounts.throttling``): after too many failed attempts
for a username or from an address, every attempt is refused until the window passes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from marketing_op.accounts.auth import MAX_CREDENTIAL_LENGTH
from marketing_op.accounts.identity_provider import provider_configured
from marketing_op.accounts.throttling import (
    client_address,
    login_attempt_begin,
    login_attempt_succeeded,
)
from marketing_op.core.exceptions import TooManyRequests


def lockout_message(refusal: TooManyRequests) -> str:
    """What a locked-out visitor is told, with the minutes left."""
    minutes = max(1, round(refusal.retry_after / 60))
    return (
        f"Too many failed sign-in attempts. Try again in {minutes} minute"
        f"{'s' if minutes != 1 else ''}."
    )


class SignInForm(AuthenticationForm):
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=MAX_CREDENTIAL_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    refusal: TooManyRequests | None = None

    def clean(self) -> dict[str, Any]:
        """Count the attempt before Django's form checks the password (as the token exchange
        does); a failed one stays counted."""
        username = str(self.cleaned_data.get("username") or "")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # no password to check: the fields say what is missing
        address = client_address(self.request) if self.request else "unknown"
        try:
            login_attempt_begin(username=username, address=address)
        except TooManyRequests as refusal:
            self.refusal = refusal
            raise ValidationError(lockout_message(refusal), code="throttled") from refusal
        cleaned = super().clean()
        login_attempt_succeeded(username=username, address=address)
        return cleaned

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if getattr(user, "organization_id", None) is None:
            raise self.get_invalid_login_error()


class SignIn(LoginView):
    """The form (unless ``PASSWORD_LOGIN`` is off) and, with an identity provider, the
    link that signs in through it (``provider_sign_in``)."""

    template_name = "dashboard/sign_in.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["password_login"] = settings.PASSWORD_LOGIN
        context["provider_configured"] = provider_configured()
        context["provider_name"] = settings.OIDC_PROVIDER_NAME
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.PASSWORD_LOGIN:
            context = self.get_context_data()
            context["refusal"] = (
                f"Password sign-in is switched off: sign in with {settings.OIDC_PROVIDER_NAME}."
            )
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if form.refusal is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.refusal.retry_after)
        return response


class SignOut(LogoutView):
    """POST only (with the CSRF token), as Django's own view: a link cannot sign anyone out."""
