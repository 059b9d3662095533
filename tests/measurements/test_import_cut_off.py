"""Uploads whose body ends before its Content-Length, sent to the real server (``marketing-op
serve``, as ``make run`` starts it) on loopback through a raw socket (issue 24.1): the
server hands such a body to the application as a short stream, which the import read as the
whole file and committed. Nothing of a cut-off upload may be stored or recorded, and its
Idempotency-Key stays free for the whole file."""

from __future__ import annotations

import datetime
import json
import re
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection

from marketing_op.accounts.services import token_issue
from marketing_op.measurements.models import ImportRecord, Measurement
from tests.factories import TEST_PASSWORD, OrganizationFactory, UserFactory
from tests.servers import call, database_url, server_environment, start_server, stop_server

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/marketing/measurements/"
HEADER = b"product,campaign_type,campaign,channel,date,conversions\n"
LARGE_ROWS = 120_000
"""More than one chunk of the PostgreSQL import (``EARLY_INSERT_ROWS``), so that a cut at
90 % comes after rows were inserted early, inside the import's transaction."""


@pytest.fixture(scope="module")
def server(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of a server on the test run's PostgreSQL database."""
    if connection.vendor != "postgresql":
        pytest.skip("needs the test run's PostgreSQL server (make test's first run)")
    environment = server_environment(
        tmp_path_factory.mktemp("cut-off"), database_url(connection.settings_dict)
    )
    _, port, process = start_server(environment)
    yield port
    stop_server(process)


@pytest.fixture
def user(settings: Any) -> Any:
    """A user whose password the server (with the production's hasher) can check."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    return UserFactory(organization=OrganizationFactory(name="acme"), username="ana")


@pytest.fixture
def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_issue(user=user, scopes='read write').token}"}


def csv_file(rows: int) -> bytes:
    """A file of ``rows`` distinct rows: 120 campaigns a day, from 2021-01-01 on."""
    first = datetime.date(2021, 1, 1)
    lines = [
        f"cola,branding,campaign {n % 120},tv,{first + datetime.timedelta(days=n // 120)},"
        f"{n % 997}.25\n"
        for n in range(rows)
    ]
    return HEADER + "".join(lines).encode()


def request_head(port: int, headers: dict[str, str], path: str = URL) -> bytes:
    fields = {
        "Host": f"127.0.0.1:{port}",
        "Content-Type": "text/csv",
        "Connection": "close",
        **headers,
    }
    lines = [f"POST {path} HTTP/1.1", *(f"{name}: {value}" for name, value in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def exchange(
    port: int, data: bytes, *, half_close: bool
) -> tuple[int | None, dict[str, Any] | None]:
    """Send the bytes, half-close the connection when the client stops there (it has sent
    all it will), and read the answer until the server closes: (status, JSON body), or
    (None, None) when the server closed without answering."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    if not answer:
        return None, None
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body) if body.startswith(b"{") else None


def cut_upload(
    port: int,
    body: bytes,
    fraction: float,
    headers: dict[str, str],
    path: str = URL,
    *,
    at_line_end: bool = True,
) -> tuple[int | None, dict[str, Any] | None]:
    """The head announces the whole body; the client sends ``fraction`` of it (to the end
    of that line: what was sent reads as a whole file) and stops."""
    head = request_head(port, {**headers, "Content-Length": str(len(body))}, path)
    sent = int(len(body) * fraction)
    if at_line_end:
        sent = body.index(b"\n", sent) + 1
    return exchange(port, head + body[:sent], half_close=True)


def whole_upload(
    port: int, body: bytes, headers: dict[str, str], path: str = URL
) -> tuple[int | None, dict[str, Any] | None]:
    head = request_head(port, {**headers, "Content-Length": str(len(body))}, path)
    return exchange(port, head + body, half_close=False)


def stored(user: Any) -> list[tuple[Any, ...]]:
    return sorted(
        Measurement.objects.filter(organization=user.organization).values_list(
            "product_name", "campaign_type", "campaign_name", "channel_name", "date", "conversions"
        )
    )


def history(user: Any) -> list[tuple[Any, ...]]:
    return list(
        ImportRecord.objects.filter(organization=user.organization)
        .order_by("id")
        .values_list("id", "status", "rows", "idempotency_key")
    )


def file_rows(body: bytes) -> list[tuple[Any, ...]]:
    """The rows of a file as stored: the oracle of a whole import."""
    rows = []
    for line in body.decode().splitlines()[1:]:
        product, campaign_type, campaign, channel, day, conversions = line.split(",")
        rows.append(
            (
                product,
                campaign_type,
                campaign,
                channel,
                datetime.date.fromisoformat(day),
                float(conversions),
            )
        )
    return sorted(rows)


def assert_cut_off_refused(status: int | None, answer: dict[str, Any] | None) -> None:
    """The client that cut its body off may not read the answer; when it does, it says why."""
    if status is not None:
        assert status == 400, answer
        assert answer is not None
        assert "Content-Length" in answer["detail"]
        assert "nothing was imported" in answer["detail"]


@pytest.fixture
def earlier_import(server: int, user: Any, bearer: dict[str, str]) -> list[tuple[Any, ...]]:
    """What the organisation holds before the cut-off uploads: one accepted import."""
    body = HEADER + b"cola,branding,autumn,radio,2021-01-02,7.5\n"
    status, answer = whole_upload(server, body, {**bearer, "Idempotency-Key": "earlier"})
    assert status == 200, answer
    return stored(user)


def test_a_small_file_cut_mid_value_changes_nothing_and_leaves_its_key_free(
    server, user, bearer, earlier_import
):
    """The issue's case: `67` stored where the file said `67890`, recorded as accepted."""
    body = (
        HEADER
        + b"cola,branding,winter,tv,2021-01-04,12345\ncola,branding,winter,tv,2021-01-05,67890\n"
    )
    key = {"Idempotency-Key": f"small-{uuid.uuid4()}"}
    before = history(user)

    status, answer = cut_upload(
        server, body, (len(body) - 4) / len(body), {**bearer, **key}, at_line_end=False
    )

    assert_cut_off_refused(status, answer)
    assert stored(user) == earlier_import
    assert history(user) == before
    status, answer = whole_upload(server, body, {**bearer, **key})
    assert status == 200, answer
    assert answer["data"]["replayed"] is False
    assert answer["data"]["rows"] == 2
    assert stored(user) == sorted(earlier_import + file_rows(body))


def test_a_larger_file_cut_at_30_and_at_90_percent_changes_nothing_until_it_is_whole(
    server, user, bearer, earlier_import
):
    """With ``replace``, a cut-off upload would also have deleted the stored rows in its
    range that its first part lacked."""
    body = csv_file(LARGE_ROWS)
    key = {"Idempotency-Key": f"large-{uuid.uuid4()}"}
    replace = f"{URL}?replace=true"
    before = history(user)

    for fraction in (0.3, 0.9):
        status, answer = cut_upload(server, body, fraction, {**bearer, **key}, replace)

        assert_cut_off_refused(status, answer)
        assert stored(user) == earlier_import, fraction
        assert history(user) == before, fraction

    status, answer = whole_upload(server, body, {**bearer, **key}, replace)
    assert status == 200, answer
    assert (answer["data"]["rows"], answer["data"]["deleted"]) == (LARGE_ROWS, 1)
    assert stored(user) == file_rows(body)
    status, answer = whole_upload(server, body, {**bearer, **key}, replace)
    assert (status, answer["data"]["replayed"]) == (200, True)


def test_a_chunked_body_without_its_last_chunk_changes_nothing(
    server, user, bearer, earlier_import
):
    body = csv_file(1000)
    key = {"Idempotency-Key": f"chunked-{uuid.uuid4()}"}
    before = history(user)
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[start : start + 4096]), body[start : start + 4096])
        for start in range(0, len(body), 4096)
    )

    head = request_head(server, {**bearer, **key, "Transfer-Encoding": "chunked"})
    status, answer = exchange(server, head + chunks, half_close=True)  # no "0\r\n\r\n"

    assert status in (None, 400, 411), answer
    assert stored(user) == earlier_import
    assert history(user) == before
    status, answer = whole_upload(server, body, {**bearer, **key})
    assert status == 200, answer
    assert stored(user) == sorted(earlier_import + file_rows(body))


def session_of(server: int, user: Any) -> dict[str, str]:
    """The headers of the dashboard's upload: the session and CSRF cookies, and the token
    that the page's script sends in ``X-CSRFToken``."""
    user.set_password(TEST_PASSWORD)
    user.save()
    base = f"http://127.0.0.1:{server}"
    _, form_headers, form = call(base, "/sign-in/")
    csrf = re.search(r"csrftoken=([^;]+)", form_headers["Set-Cookie"]).group(1)
    hidden = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.decode()).group(1)
    fields = {"username": user.username, "password": TEST_PASSWORD, "csrfmiddlewaretoken": hidden}
    signed_in, headers, _ = call(
        base,
        "/sign-in/",
        method="POST",
        data=urlencode(fields).encode(),
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert signed_in == 302
    session = re.search(r"sessionid=([^;]+)", ", ".join(headers.get_all("Set-Cookie"))).group(1)
    return {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}


def test_the_dashboards_upload_cut_off_changes_nothing(server, user, earlier_import):
    dashboard = {
        **session_of(server, user),
        "Content-Disposition": 'attachment; filename="run.csv"',
    }
    body = csv_file(5000)
    before = history(user)

    status, answer = cut_upload(server, body, 0.5, dashboard)

    assert_cut_off_refused(status, answer)
    assert stored(user) == earlier_import
    assert history(user) == before
    status, answer = whole_upload(server, body, dashboard)
    assert status == 200, answer
    assert stored(user) == sorted(earlier_import + file_rows(body))
