"""``marketing-op create-user`` as scripts and terminals run it: the password from standard
input, the environment or a prompt, and a clear refusal where there is none."""

from __future__ import annotations

import subprocess

import pytest

from marketing_op.accounts.models import User
from tests.factories import OrganizationFactory
from tests.measurements.test_import_command import (
    MARKETING_OP,
    child_environment,
    postgres_only,
)

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase 4 ana"


def create_user(*options: str, piped: str | None = None) -> subprocess.CompletedProcess:
    """The command in a session of its own, so with no terminal to prompt on, as cron, CI
    or a container run it; ``piped`` is its standard input (else nothing)."""
    environment = child_environment()
    environment.pop("MARKETING_OP_PASSWORD", None)
    return subprocess.run(
        [MARKETING_OP, "create-user", "--organisation", "acme", "--username", "ana", *options],
        input=piped,
        stdin=subprocess.DEVNULL if piped is None else None,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )


def test_a_piped_password_is_read_with_password_stdin_and_the_user_signs_in(api_client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # the child's
    OrganizationFactory(name="acme")

    done = create_user("--password-stdin", piped=f"{PASSWORD}\n")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Created user 'ana' of 'acme'\n"
    response = api_client.get("/api/auth/token/", **api_client.basic("ana", PASSWORD))
    assert response.status_code == 200
    assert response.json()["data"]["token"]


@pytest.mark.parametrize(
    ("options", "piped"),
    [((), None), ((), f"{PASSWORD}\n")],
    ids=["no terminal, nothing piped", "piped without --password-stdin"],
)
def test_without_a_terminal_the_command_says_how_to_give_a_password(options, piped):
    """Issue 28: an EOFError traceback."""
    OrganizationFactory(name="acme")

    done = create_user(*options, piped=piped)

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("CommandError: No password, and no terminal to ask for one on:")
    assert "--password-stdin" in line
    assert "MARKETING_OP_PASSWORD" in line
    assert not User.objects.filter(username="ana").exists()


def test_password_stdin_with_nothing_piped_is_refused():
    OrganizationFactory(name="acme")

    done = create_user("--password-stdin")

    assert done.returncode == 1
    assert done.stderr == "CommandError: --password-stdin read no password from standard input.\n"
    assert not User.objects.filter(username="ana").exists()
