"""The identity provider's discovery document (``/.well-known/openid-configuration``) and
signing keys (its JWKS), fetched with a timeout and kept in the Django cache, so that
every worker and machine fetches them once per ``OIDC_JWKS_CACHE_SECONDS``; each worker
keeps a copy too, so that a cache that does not answer costs no fetch per request.

A key the cached set lacks (the provider rotated its keys) fetches the set again, at most
once per ``OIDC_JWKS_REFRESH_SECONDS`` per worker and per cache: tokens with made-up key ids
cannot make us fetch on every request. While the provider does not answer, the last set
fetched goes on being used; with none at all the answer is ``503``, and a worker waits
``FAILED_FETCH_PAUSE_SECONDS`` before it tries again, so an outage costs a timeout now and
then, not on every request.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

from marketing_op.core.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_DOCUMENT_BYTES = 512 * 1024
KEEP_STALE_SECONDS = 7 * 24 * 60 * 60
FAILED_FETCH_PAUSE_SECONDS = 10
SIGNING_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
"""Public keys only: a symmetric (``oct``) key in a published set is never used."""

_lock = threading.Lock()
_worker_copies: dict[str, dict[str, Any]] = {}
_last_refetch = 0.0
_paused_until = 0.0


class ProviderUnreachable(ServiceUnavailable):
    def __init__(self, reason: str) -> None:
        super().__init__(
            "The identity provider cannot be reached to check this sign-in; try again later."
        )
        self.reason = reason


def discovery_url() -> str:
    return settings.OIDC_ISSUER.rstrip("/") + DISCOVERY_PATH


def _cache_key(kind: str) -> str:
    issuer = hashlib.sha256(settings.OIDC_ISSUER.encode()).hexdigest()[:32]
    return f"oidc:{kind}:{issuer}"


def _fetch_json(url: str) -> dict[str, Any]:
    global _paused_until
    if time.monotonic() < _paused_until:
        raise ProviderUnreachable("a recent fetch failed")
    try:
        response = requests.get(
            url,
            timeout=settings.OIDC_TIMEOUT_SECONDS,
            headers={"Accept": "application/json"},
            allow_redirects=False,
        )
        if response.status_code != 200:
            raise ProviderUnreachable(f"{url} answered {response.status_code}")
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise ProviderUnreachable(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
        document = response.json()
        if not isinstance(document, dict):
            raise ProviderUnreachable(f"{url} answered JSON that is not an object")
        return document
    except (requests.RequestException, ValueError, ProviderUnreachable) as error:
        reason = error.reason if isinstance(error, ProviderUnreachable) else repr(error)
        logger.warning("The identity provider did not answer: %s", reason)
        with _lock:
            _paused_until = time.monotonic() + FAILED_FETCH_PAUSE_SECONDS
        raise ProviderUnreachable(reason) from error


def _fresh(stored: dict[str, Any]) -> bool:
    return time.time() - float(stored.get("fetched_at", 0)) < settings.OIDC_JWKS_CACHE_SECONDS


def _shared(kind: str) -> dict[str, Any] | None:
    stored = cache.get(_cache_key(kind))
    if not isinstance(stored, dict) or "document" not in stored:
        return None
    with _lock:
        _worker_copies[_cache_key(kind)] = stored
    return stored


def _stored(kind: str) -> tuple[dict[str, Any] | None, bool]:
    """A kept document and whether it is fresh: this worker's copy while it is fresh (so
    that a cache that does not answer costs no fetch per request), else the shared one."""
    with _lock:
        stored = _worker_copies.get(_cache_key(kind))
    if stored is None or not _fresh(stored):
        stored = _shared(kind) or stored
    if stored is None:
        return None, False
    return stored["document"], _fresh(stored)


def _store(kind: str, document: dict[str, Any]) -> None:
    stored = {"document": document, "fetched_at": time.time()}
    with _lock:
        _worker_copies[_cache_key(kind)] = stored
    cache.set(_cache_key(kind), stored, timeout=KEEP_STALE_SECONDS)


def provider_metadata() -> dict[str, Any]:
    """The discovery document; it must name ``OIDC_ISSUER`` as its issuer."""
    document, fresh = _stored("metadata")
    if document is not None and fresh:
        return document
    try:
        fetched = _fetch_json(discovery_url())
    except ProviderUnreachable:
        if document is not None:
            return document
        raise
    if fetched.get("issuer") != settings.OIDC_ISSUER or not isinstance(
        fetched.get("jwks_uri"), str
    ):
        logger.error(
            "The discovery document at %s names the issuer %r (OIDC_ISSUER is %r) or no jwks_uri",
            discovery_url(),
            fetched.get("issuer"),
            settings.OIDC_ISSUER,
        )
        raise ProviderUnreachable("the discovery document does not match OIDC_ISSUER")
    _store("metadata", fetched)
    return fetched


def _fetch_keys() -> dict[str, Any]:
    document = _fetch_json(provider_metadata()["jwks_uri"])
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ProviderUnreachable("the key set has no list of keys")
    usable = [
        key
        for key in keys
        if isinstance(key, dict)
        and key.get("kty") in SIGNING_KEY_TYPES
        and key.get("use", "sig") == "sig"
    ]
    key_set = {"keys": usable}
    _store("jwks", key_set)
    return key_set


def _refetch_allowed() -> bool:
    global _last_refetch
    now = time.monotonic()
    with _lock:
        if now - _last_refetch < settings.OIDC_JWKS_REFRESH_SECONDS:
            return False
        _last_refetch = now
    # Across workers too; a cache that does not answer (None) leaves it to each worker.
    added = cache.add(_cache_key("refetch"), 1, timeout=settings.OIDC_JWKS_REFRESH_SECONDS)
    return added is not False


def _pick(key_set: dict[str, Any], kid: str | None) -> dict[str, Any] | None:
    keys = key_set.get("keys", [])
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.get("kid") == kid), None)


def provider_key_set() -> dict[str, Any]:
    """The provider's published signing keys (``{"keys": [...]}``), from the cache while
    fresh, the last set fetched while the provider does not answer."""
    key_set, fresh = _stored("jwks")
    if key_set is None or not fresh:
        try:
            key_set = _fetch_keys()
        except ProviderUnreachable:
            if key_set is None:
                raise
    return key_set


def provider_signing_key(*, kid: str | None) -> dict[str, Any] | None:
    """The provider's published public key (a JWK) with this key id, or None when the
    provider does not publish one. A token without a key id may use the only key."""
    key = _pick(provider_key_set(), kid)
    if key is None:
        # Another worker may have fetched the provider's new keys already.
        shared = _shared("jwks")
        key = _pick(shared["document"], kid) if shared else None
    if key is None and _refetch_allowed():
        key = _pick(_fetch_keys(), kid)
    return key


def forget_provider_state() -> None:
    """Forget this worker's copies, pauses and refetch times (tests do, with the cache's)."""
    global _last_refetch, _paused_until
    with _lock:
        _last_refetch = 0.0
        _paused_until = 0.0
        _worker_copies.clear()
