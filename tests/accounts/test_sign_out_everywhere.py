"""``revoke-tokens`` signs a user out everywhere: their bearer and refresh tokens, and the
dashboard's sessions, whichever way a session is used (its pages, the API, an import)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from marketing_op.accounts.models import User
from marketing_op.measurements.models import Measurement
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.api, pytest.mark.django_db]

SIGN_IN = "/sign-in/"
DATA_URL = "/api/marketing/measurements/"
CSV = (
    "product,campaign_type,campaign,channel,date,conversions\n"
    "shoes,branding,spring,tv,2021-01-04,12\n"
)


def signed_in(username: str) -> tuple[Client, str]:
    """A browser signed in to the dashboard as ``username``, and its CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.get(SIGN_IN)
    form = {
        "username": username,
        "password": TEST_PASSWORD,
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
    }
    assert client.post(SIGN_IN, form).status_code == 302
    return client, client.cookies["csrftoken"].value


def upload(client: Client, csrf_token: str):
    return client.post(
        DATA_URL,
        data=CSV.encode(),
        content_type="text/csv",
        HTTP_X_CSRFTOKEN=csrf_token,
        HTTP_CONTENT_DISPOSITION='attachment; filename="spring.csv"',
    )


def test_revoking_a_users_tokens_ends_their_dashboard_sessions(user, organization, capsys):
    browser, csrf_token = signed_in("ana")
    laptop, _ = signed_in("ana")
    UserFactory(organization=organization, username="bea")
    colleague, colleague_csrf = signed_in("bea")
    assert browser.get("/").status_code == 200
    assert upload(browser, csrf_token).status_code == 200
    Measurement.objects.all().delete()

    call_command("revoke_tokens", username="ana")

    page = browser.get("/")
    assert page.status_code == 302
    assert page["Location"] == f"{SIGN_IN}?next=/"
    read = laptop.get(DATA_URL)
    assert read.status_code == 401
    refused = upload(browser, csrf_token)
    assert refused.status_code == 401
    assert not Measurement.objects.exists()
    # Others keep theirs, and the user may sign in again.
    assert colleague.get(DATA_URL).status_code == 200
    assert upload(colleague, colleague_csrf).status_code == 200
    again, _ = signed_in("ana")
    assert again.get(DATA_URL).status_code == 200
    assert "ended their dashboard sessions" in capsys.readouterr().out


def test_revoking_twice_ends_the_sessions_opened_in_between(user):
    call_command("revoke_tokens", username="ana")
    browser, _ = signed_in("ana")
    assert browser.get(DATA_URL).status_code == 200

    call_command("revoke_tokens", username="ana")

    assert browser.get(DATA_URL).status_code == 401
    assert User.objects.get(username="ana").session_generation == 2


def test_a_new_password_still_ends_the_sessions(user):
    """Django's own rule, kept by the session check that revocation extends."""
    browser, _ = signed_in("ana")
    user.set_password("another-long-password-1")
    user.save()

    assert browser.get(DATA_URL).status_code == 401
