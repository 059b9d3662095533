from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac


class Organization(models.Model):
    """A customer: owns products, campaigns and measurements; its users see only its data."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    data_version = models.PositiveBigIntegerField(
        default=0, help_text="Changes with every import; the ETag of every data response."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A Django user that belongs to exactly one organisation."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    oidc_subject = models.CharField(
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text="The identity provider's sub claim for this user (OIDC_ISSUER).",
    )

    session_generation = models.PositiveIntegerField(
        default=0,
        help_text="Raised to end every dashboard session of the user at once (revoke-tokens).",
    )

    REQUIRED_FIELDS = ["email"]

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """What a session keeps of its user and Django checks on each of its requests: as
        Django's own (the password hash: a new password ends every session), with
        ``session_generation`` added once it was raised, so that raising it ends them too.
        Generation 0 keeps Django's value, so that no session ends when this is deployed."""
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        value = self.password
        if self.session_generation:
            value = f"{value}\x00{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class AccessToken(models.Model):
    """A bearer token; only the SHA-256 digest of the secret is stored."""

    READ = "read"
    WRITE = "write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.CharField(max_length=100, default=READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    family = models.UUIDField(
        null=True,
        blank=True,
        help_text="The sign-in (token exchange) this token comes from, refreshes included.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["user", "revoked_at"]),
            models.Index(fields=["family"], name="accesstoken_family"),
        ]

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user_id}"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class RefreshToken(models.Model):
    """A single-use secret that trades for a new access and refresh token (rotation); only
    its SHA-256 digest is stored. Every token issued from one token exchange shares its
    ``family``: a refresh token used a second time revokes the whole family."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    digest = models.CharField(max_length=64, unique=True)
    family = models.UUIDField()
    scopes = models.CharField(max_length=100, default=AccessToken.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was traded for a new pair (rotated)."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["family"], name="refreshtoken_family"),
            models.Index(fields=["user", "revoked_at"], name="refreshtoken_user_revoked"),
        ]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of {self.user_id}"
