"""An import needs no privilege (PostgreSQL only): the schema is migrated by the owner, then
a plain login role with only the rights on the application's tables imports a file (with
the command and over the API) and reads it back through the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "postgres").startswith("postgres"),
    reason="roles and grants are PostgreSQL's",
)

MARKETING_OP = str(Path(sys.executable).with_name("marketing-op"))
HEADER = "product,campaign_type,campaign,channel,date,conversions\n"
GRANTS = (
    'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{role}"',
    'GRANT USAGE ON SCHEMA public TO "{role}"',
    'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
    'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
)
AS_THE_ROLE = """
import json, django
django.setup()
from django.test import Client
from marketing_op.accounts.models import Organization
from marketing_op.accounts.services import token_issue, user_create
organization = Organization.objects.get(name="acme")
user = user_create(organization=organization, username="ana", password="a long test password 42")
auth = {"HTTP_AUTHORIZATION": "Bearer " + token_issue(user=user, scopes="read write").token}
client = Client()
posted = client.post(
    "/api/marketing/measurements/?replace=true",
    data=open(ARGUMENT_FILE, "rb").read(),
    content_type="text/csv",
    **auth,
)
listed = client.get("/api/marketing/measurements/", {"page_size": 100}, **auth)
print(json.dumps({"posted": posted.status_code, "listed": listed.json(), "post": posted.json()}))
"""


def server_url(database: str, user: str) -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{database}"
    )


@pytest.fixture
def plain_role() -> Iterator[tuple[str, str]]:
    """A scratch database migrated by the owner, and a plain role with the import's rights
    only; both dropped at the end."""
    owner = connection.settings_dict["USER"]
    database = f"imports_privilege_{uuid.uuid4().hex[:10]}"
    role = f"{database}_app"
    with psycopg.connect(server_url("postgres", owner), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')  # type: ignore[arg-type]
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')  # type: ignore[arg-type]
    try:
        owner_env = {**os.environ, "DATABASE_URL": server_url(database, owner)}
        owner_env.pop("TEST_DATABASE_NAME", None)
        subprocess.run([MARKETING_OP, "migrate", "-v", "0"], env=owner_env, check=True, timeout=180)
        subprocess.run(
            [MARKETING_OP, "create-organization", "acme"], env=owner_env, check=True, timeout=60
        )
        with psycopg.connect(server_url(database, owner), autocommit=True) as admin:
            for grant in GRANTS:
                admin.execute(grant.format(database=database, role=role))  # type: ignore[arg-type]
        yield database, role
    finally:
        with psycopg.connect(server_url("postgres", owner), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')  # type: ignore[arg-type]
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')  # type: ignore[arg-type]


def test_a_plain_role_imports_and_serves_without_any_privilege(plain_role, tmp_path):
    database, role = plain_role
    environment = {**os.environ, "DATABASE_URL": server_url(database, role)}
    environment.pop("TEST_DATABASE_NAME", None)
    first = tmp_path / "first.csv"
    first.write_text(
        HEADER + "".join(f"cola,branding,c{n},tv,2021-01-{1 + n % 28:02d},{n}\n" for n in range(60))
    )
    second = tmp_path / "second.csv"
    second.write_text(
        HEADER + "cola,branding,c1,tv,2021-01-02,7.5\ncola,branding,c2,radio,2021-01-03,2\n"
    )

    imported = subprocess.run(
        [MARKETING_OP, "import", str(first), "--organization", "acme", "--no-progress"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    served = subprocess.run(
        [sys.executable, "-c", AS_THE_ROLE.replace("ARGUMENT_FILE", repr(str(second)))],
        env={**environment, "DJANGO_SETTINGS_MODULE": "marketing_op.config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert imported.returncode == 0, imported.stderr
    assert "60 rows, 60 inserted" in imported.stdout
    assert served.returncode == 0, served.stderr
    answer = json.loads(served.stdout.strip().splitlines()[-1])
    assert answer["posted"] == 200, answer
    assert (answer["post"]["data"]["inserted"], answer["post"]["data"]["deleted"]) == (1, 5)
    assert answer["listed"]["meta"]["total"] == 60 - 5 + 1
    rows = {
        (row["campaign"], row["channel"], row["date"]): row["conversions"]
        for row in answer["listed"]["data"]
    }
    assert rows[("c1", "tv", "2021-01-02")] == 7.5
    assert rows[("c2", "radio", "2021-01-03")] == 2.0
    with psycopg.connect(server_url(database, role)) as as_role:
        superuser = as_role.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert superuser.fetchone() == (False,)
