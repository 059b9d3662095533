"""Session rows: a visitor who is not signed in leaves none that outlives a sign-in's few
minutes, and ``clear-sessions`` removes the expired ones."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.dashboard.test_provider_sign_in import SUBJECT, sign_in_through_provider
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.api, pytest.mark.django_db]

VISITS = 30
PENDING_SIGN_IN = datetime.timedelta(minutes=10)
"""The longest a row may live for a sign-in that went to the provider and never came back."""


def test_strangers_leave_no_session_rows_that_outlive_a_sign_in(client, identity_provider, user):
    for _ in range(VISITS):
        Client().get("/sign-in/")
        Client().get("/")
        Client().post("/sign-in/", {"username": "ana", "password": "wrong"})
    assert not Session.objects.exists()
    started = timezone.now()

    for _ in range(VISITS):
        assert Client().get("/sign-in/provider/").status_code == 302

    latest = started + PENDING_SIGN_IN + datetime.timedelta(minutes=1)
    assert Session.objects.count() <= VISITS
    assert not Session.objects.filter(expire_date__gt=latest).exists()


def test_a_finished_sign_in_through_the_provider_gets_the_whole_session_age(
    client, identity_provider, organization, settings
):
    UserFactory(organization=organization, username="ana.sso", oidc_subject=SUBJECT)
    started = timezone.now()

    assert sign_in_through_provider(client, identity_provider).status_code == 302

    [session] = Session.objects.all()
    age = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert session.expire_date >= started + age - datetime.timedelta(minutes=1)
    assert client.get("/api/marketing/dimensions/").status_code == 200


def test_a_signed_in_visitor_starting_a_provider_sign_in_keeps_their_session_age(
    client, identity_provider, user, settings
):
    assert (
        client.post("/sign-in/", {"username": "ana", "password": TEST_PASSWORD}).status_code == 302
    )
    started = timezone.now()

    client.get("/sign-in/provider/")

    [session] = Session.objects.all()
    age = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert session.expire_date >= started + age - datetime.timedelta(minutes=1)


def test_clear_sessions_removes_the_expired_sessions_only(client, user, capsys):
    signed_in = Client()
    assert (
        signed_in.post("/sign-in/", {"username": "ana", "password": TEST_PASSWORD}).status_code
        == 302
    )
    for _ in range(3):
        Client().post("/sign-in/", {"username": "ana", "password": TEST_PASSWORD})
    expired = list(Session.objects.exclude(session_key=signed_in.session.session_key))
    Session.objects.filter(pk__in=[row.pk for row in expired]).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )

    call_command("clear_sessions")

    assert "Removed 3 expired session(s)" in capsys.readouterr().out
    assert list(Session.objects.values_list("session_key", flat=True)) == [
        signed_in.session.session_key
    ]
    assert signed_in.get("/api/marketing/dimensions/").status_code == 200
