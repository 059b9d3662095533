"""Sign-in with the company's identity provider (OpenID Connect, ``OIDC_ISSUER``): its
published configuration and keys (``discovery``), its JWT access tokens on the API
(``access_tokens``) and the dashboard's authorization code flow (``code_flow``). Authlib and
joserfc speak the protocol; these modules choose what to accept."""

from django.conf import settings


def provider_configured() -> bool:
    return bool(settings.OIDC_ISSUER)
