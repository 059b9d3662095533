"""Sign-in through the company's identity provider (``OIDC_ISSUER``): "Sign in with ..." on
the sign-in page starts the authorization code flow (``accounts.identity_provider``), and
the provider sends the visitor back to ``provider_callback``.

The provider's ``sub`` claim is matched with a user's OpenID subject (``create-user
--oidc-subject``); nobody is created on the fly. With ``OIDC_ORGANIZATION_CLAIM`` set, that
claim must name the user's organisation. Any refusal opens no session and says why on a
page of its own; refusals count against the lock-out of the client address, as failed
password sign-ins do."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.views.decorators.http import require_GET

from marketing_op.accounts.identity_provider import provider_configured
from marketing_op.accounts.identity_provider.access_tokens import organization_claim_refusal
from marketing_op.accounts.identity_provider.code_flow import (
    SignInRefused,
    authorization_claims,
    authorization_redirect,
)
from marketing_op.accounts.identity_provider.discovery import ProviderUnreachable
from marketing_op.accounts.selectors import user_get_by_oidc_subject
from marketing_op.accounts.throttling import (
    address_attempt_check,
    address_failure_record,
    client_address,
)
from marketing_op.core.exceptions import TooManyRequests
from marketing_op.dashboard.sign_in import lockout_message

NEXT_SESSION_KEY = "provider_sign_in_next"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PENDING_SIGN_IN_SECONDS = 10 * 60
"""How long the session of a sign-in that went to the provider (its state, nonce and code
verifier) is kept: a visitor who never comes back leaves a row that expires this soon, not
after ``SESSION_COOKIE_AGE``."""


def refusal_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    response = render(
        request,
        "dashboard/sign_in_refused.html",
        {"page": "sign-in", "message": message, "provider_name": settings.OIDC_PROVIDER_NAME},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _throttled(request: HttpRequest, address: str) -> HttpResponse | None:
    try:
        address_attempt_check(address=address)
    except TooManyRequests as refusal:
        response = refusal_page(request, lockout_message(refusal), 429)
        response["Retry-After"] = str(refusal.retry_after)
        return response
    return None


def _safe_next(request: HttpRequest, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@require_GET
def provider_sign_in(request: HttpRequest) -> HttpResponse:
    """Send the visitor to the identity provider."""
    if not provider_configured():
        raise Http404("No identity provider is configured.")
    throttled = _throttled(request, client_address(request))
    if throttled is not None:
        return throttled
    request.session[NEXT_SESSION_KEY] = _safe_next(request, request.GET.get("next"))
    if not request.user.is_authenticated:  # a signed-in session keeps its own age
        request.session.set_expiry(PENDING_SIGN_IN_SECONDS)
    callback = request.build_absolute_uri(reverse("dashboard:provider-callback"))
    try:
        return authorization_redirect(request=request, redirect_uri=callback)
    except ProviderUnreachable as error:
        return refusal_page(request, error.message, 503)


@require_GET
def provider_callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer: sign the matching user in, or say why not."""
    if not provider_configured():
        raise Http404("No identity provider is configured.")
    address = client_address(request)
    throttled = _throttled(request, address)
    if throttled is not None:
        return throttled
    try:
        claims = authorization_claims(request=request)
    except ProviderUnreachable as error:
        return refusal_page(request, error.message, 503)
    except SignInRefused as refused:
        address_failure_record(address=address)
        return refusal_page(request, refused.message, 400)
    subject = claims["sub"]
    user = user_get_by_oidc_subject(subject=subject)
    if user is None:
        address_failure_record(address=address)
        return refusal_page(
            request,
            f"{capfirst(settings.OIDC_PROVIDER_NAME)} signed you in as {subject!r}, but no user of "
            "Marketing OP has that subject. Ask an administrator to create one "
            f"(marketing-op create-user --oidc-subject {subject!r} ...).",
            403,
        )
    refusal = organization_claim_refusal(claims, user)
    if refusal is not None:
        address_failure_record(address=address)
        return refusal_page(request, refusal, 403)
    target = request.session.pop(NEXT_SESSION_KEY, None)
    login(request, user, backend=MODEL_BACKEND)
    request.session.set_expiry(None)  # signed in: the whole SESSION_COOKIE_AGE from now
    return HttpResponseRedirect(_safe_next(request, target))
