"""Production settings: refuse to start without secrets, and pass Django's deployment check."""

import os
import subprocess
import sys

import pytest

PRODUCTION = {
    "MARKETING_OP_ENV": "production",
    "ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
}


def run_command(*args, **environment):
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG"}}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-m", "marketing_op", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_command("check", **PRODUCTION)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_passes_the_deployment_check_with_warnings_as_errors():
    result = run_command(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k" * 30 + "-long-random-" * 4,
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_never_runs_with_debug():
    result = run_command(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        SECRET_KEY="k" * 60,
        DEBUG="true",
        **PRODUCTION,
    )

    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


@pytest.mark.parametrize(
    "command",
    [
        "serve",
        "migrate",
        "load-demo",
        "generate-demo",
        "create-organization",
        "create-user",
        "revoke-tokens",
        "check",
    ],
)
def test_every_command_answers_help(command):
    result = run_command(command, "--help", DATABASE_URL="sqlite:///:memory:")

    assert result.returncode == 0, result.stderr
    assert "usage: marketing-op" in result.stdout


@pytest.mark.parametrize(
    ("database_url", "replica_urls", "message"),
    [
        ("sqlite:///:memory:", "postgres://db-replica/marketing_op", "needs a PostgreSQL"),
        ("postgres://db/marketing_op", "sqlite:///other.sqlite3", "must name PostgreSQL"),
    ],
    ids=["SQLite primary", "SQLite replica"],
)
def test_replicas_are_postgresql_copies_of_a_postgresql_primary(
    database_url, replica_urls, message
):
    result = run_command("check", DATABASE_URL=database_url, DATABASE_REPLICA_URLS=replica_urls)

    assert result.returncode != 0
    assert message in result.stderr
