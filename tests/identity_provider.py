"""A small OpenID provider on loopback for the tests: discovery, JWKS, an authorization
endpoint (a page with an "Approve" button, as a real provider's consent page) and a token
endpoint that checks the client's secret, the redirect address and the PKCE verifier.
Its keys are generated for every test run; nothing leaves the machine.

Tests also mint access tokens with it directly (``access_token``), and tokens that break
one rule each (another key, another algorithm, an expired one...).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import JWSRegistry

CLIENT_ID = "marketing-op"
CLIENT_SECRET = "test-client-secret-of-this-run"
AUDIENCE = "marketing-op-api"


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Authorization:
    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    nonce: str | None
    subject: str
    claims: dict[str, Any]


@dataclass
class IdentityProvider:
    """The provider's state; ``serve`` starts it on a free loopback port."""

    issuer: str = ""
    rsa_key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(
            2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"}
        )
    )
    ec_key: ECKey = field(
        default_factory=lambda: ECKey.generate_key(
            "P-256", parameters={"kid": "ec-1", "use": "sig"}
        )
    )
    extra_keys: list[Any] = field(default_factory=list)
    """Keys published after a rotation (``rotate``)."""
    claims_of: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Extra ID token claims of a subject (an organisation claim, say)."""
    codes: dict[str, Authorization] = field(default_factory=dict)
    authorization_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    key_set_fetches: int = 0
    down: bool = False
    server: ThreadingHTTPServer | None = None

    # --- what the tests use --------------------------------------------------------------

    def reset(self) -> None:
        self.extra_keys.clear()
        self.claims_of.clear()
        self.codes.clear()
        self.authorization_requests.clear()
        self.token_requests.clear()
        self.key_set_fetches = 0
        self.down = False

    def public_keys(self) -> list[dict[str, Any]]:
        keys = [self.rsa_key, self.ec_key, *self.extra_keys]
        return [key.as_dict(private=False) for key in keys]

    def rotate(self) -> RSAKey:
        """Publish a new key (as a provider does before it signs with it)."""
        key = RSAKey.generate_key(
            2048, parameters={"kid": f"rsa-{2 + len(self.extra_keys)}", "use": "sig"}
        )
        self.extra_keys.append(key)
        return key

    def sign(
        self, claims: dict[str, Any], *, key: Any = None, header: dict[str, Any] | None = None
    ) -> str:
        key = key or self.rsa_key
        algorithm = {"RSA": "RS256", "EC": "ES256"}.get(key.key_type, "HS256")
        full_header = {"alg": algorithm, "kid": key.kid, "typ": "at+jwt", **(header or {})}
        registry = JWSRegistry(algorithms=[full_header["alg"]], strict_check_header=False)
        return jwt.encode(full_header, claims, key, registry=registry)

    def claims(self, subject: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "scope": "openid read",
            "jti": secrets.token_hex(8),
            **self.claims_of.get(subject, {}),
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def access_token(
        self,
        subject: str,
        *,
        key: Any = None,
        header: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """A signed access token for the subject; ``overrides`` set claims (None drops one)."""
        return self.sign(self.claims(subject, **overrides), key=key, header=header)

    def approve(self, authorize_url: str, subject: str) -> str:
        """What the browser does at the consent page: the redirect back to the client."""
        query = {
            name: values[0] for name, values in parse_qs(urlparse(authorize_url).query).items()
        }
        return self._approve(query, subject)

    # --- the endpoints ---------------------------------------------------------------------

    def _approve(self, query: dict[str, str], subject: str) -> str:
        code = secrets.token_urlsafe(16)
        self.codes[code] = Authorization(
            client_id=query.get("client_id", ""),
            redirect_uri=query.get("redirect_uri", ""),
            code_challenge=query.get("code_challenge", ""),
            code_challenge_method=query.get("code_challenge_method", ""),
            nonce=query.get("nonce"),
            subject=subject,
            claims=self.claims_of.get(subject, {}),
        )
        answer = {"code": code, "state": query.get("state", "")}
        return f"{query.get('redirect_uri', '')}?{urlencode(answer)}"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def exchange(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """The token endpoint: a code for an ID token and an access token, once."""
        self.token_requests.append(form)
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        granted = self.codes.pop(form.get("code", ""), None)
        if granted is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        if (
            granted.redirect_uri != form.get("redirect_uri")
            or granted.code_challenge_method != "S256"
            or _s256(verifier) != granted.code_challenge
        ):
            return 400, {"error": "invalid_grant", "error_description": "PKCE or redirect_uri"}
        now = int(time.time())
        id_claims = {
            "iss": self.issuer,
            "sub": granted.subject,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            **({"nonce": granted.nonce} if granted.nonce else {}),
            **granted.claims,
        }
        return 200, {
            "access_token": self.access_token(granted.subject),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.sign(id_claims),
        }

    # --- the server ------------------------------------------------------------------------

    def serve(self) -> IdentityProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def _redirect(self, location: str) -> None:
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                if provider.down:
                    self._send(503, {"error": "temporarily_unavailable"})
                    return
                url = urlparse(self.path)
                query = {name: values[0] for name, values in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._send(200, provider.discovery())
                elif url.path == "/jwks":
                    provider.key_set_fetches += 1
                    self._send(200, {"keys": provider.public_keys()})
                elif url.path == "/favicon.ico":
                    self._send(200, "", "image/x-icon")
                elif url.path == "/authorize":
                    provider.authorization_requests.append(query)
                    self._send(200, consent_page(query), "text/html; charset=utf-8")
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                if provider.down:
                    self._send(503, {"error": "temporarily_unavailable"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = {
                    name: values[0]
                    for name, values in parse_qs(self.rfile.read(length).decode()).items()
                }
                url = urlparse(self.path)
                if url.path == "/authorize":
                    subject = form.pop("subject", "")
                    self._redirect(provider._approve(form, subject))
                elif url.path == "/token":
                    status, body = provider.exchange(form, self.headers.get("Authorization", ""))
                    self._send(status, body)
                else:
                    self._send(404, {"error": "not_found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def consent_page(query: dict[str, str]) -> str:
    """The provider's sign-in page: who signs in, and an Approve button that posts the
    authorization request back with the subject."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in query.items()
    )
    return (
        "<!doctype html><html lang='en'><head><title>Test identity provider</title></head>"
        "<body><h1>Test identity provider</h1>"
        f"<form method='post' action='/authorize'>{hidden}"
        "<label for='subject'>Subject</label><input id='subject' name='subject'>"
        "<button type='submit'>Approve</button></form></body></html>"
    )
