"""POST /api/marketing/measurements/ and GET /api/marketing/imports/.

Every answer is checked against docs/openapi.yaml, except the 413 answers: the checker
would read the oversized body itself.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.test import Client

from marketing_op.accounts.models import User
from marketing_op.accounts.services import token_issue
from marketing_op.measurements.demo import demo_story_measurements
from marketing_op.measurements.imports import write_measurement_csv
from marketing_op.measurements.models import ImportRecord, Measurement
from tests.factories import OrganizationFactory, UserFactory, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

URL = "/api/marketing/measurements/"
HEADER = "product,campaign_type,campaign,channel,date,conversions\n"
GOOD = HEADER + "p,branding,c,tv,2021-01-04,12.5\np,branding,c,radio,2021-01-05,3\n"


@pytest.fixture
def client(api_client: Any) -> Any:
    return api_client


@pytest.fixture
def plain_client() -> Any:
    return Client()


@pytest.fixture
def write_auth(user: Any) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"}


def upload(
    client: Any,
    auth: dict[str, str],
    body: str | bytes,
    *,
    content_type: str = "text/csv",
    query: str = "",
    **headers: Any,
) -> Any:
    return client.post(f"{URL}{query}", data=body, content_type=content_type, **auth, **headers)


def listed(client: Any, auth: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = client.get(URL, {"offset": len(rows), "page_size": 100}, **auth).json()
        rows.extend(page["data"])
        if len(rows) >= page["meta"]["total"]:
            return rows


def test_a_csv_upload_is_imported_and_summarised(client, write_auth):
    response = upload(client, write_auth, GOOD)

    assert response.status_code == 200
    summary = response.json()["data"]
    assert summary == {
        "import_id": ImportRecord.objects.get().pk,
        "rows": 2,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "first_date": "2021-01-04",
        "last_date": "2021-01-05",
        "sha256": hashlib.sha256(GOOD.encode()).hexdigest(),
        "replayed": False,
    }
    assert listed(client, write_auth) == [
        {
            "product": "p",
            "campaign_type": "branding",
            "campaign": "c",
            "channel": "tv",
            "date": "2021-01-04",
            "conversions": 12.5,
            "spend": None,
        },
        {
            "product": "p",
            "campaign_type": "branding",
            "campaign": "c",
            "channel": "radio",
            "date": "2021-01-05",
            "conversions": 3.0,
            "spend": None,
        },
    ]


def test_a_json_list_of_rows_is_imported(client, write_auth):
    rows = [
        {
            "product": "p",
            "campaign_type": "t",
            "campaign": "c",
            "channel": "tv",
            "date": "2021-01-04",
            "conversions": 2242.0662350159814,
        }
    ]

    response = upload(client, write_auth, orjson.dumps(rows), content_type="application/json")

    assert response.status_code == 200
    assert response.json()["data"]["inserted"] == 1
    assert listed(client, write_auth) == [{**rows[0], "spend": None}]
    assert ImportRecord.objects.get().file_format == "json"


def test_a_gzip_compressed_csv_is_imported(client, write_auth):
    response = upload(
        client, write_auth, gzip.compress(GOOD.encode()), content_type="application/gzip"
    )

    assert response.status_code == 200
    assert response.json()["data"]["inserted"] == 2


def test_the_same_upload_twice_changes_nothing_the_second_time(client, write_auth):
    upload(client, write_auth, GOOD)

    response = upload(client, write_auth, GOOD)

    assert response.json()["data"]["unchanged"] == 2
    assert Measurement.objects.count() == 2


def test_replace_deletes_the_organisations_rows_in_the_range_that_the_file_lacks(
    client, write_auth, organization
):
    measurement(
        organization,
        product="p",
        campaign_type="branding",
        campaign="c",
        channel="ooh",
        date=datetime.date(2021, 1, 4),
    )
    measurement(
        organization,
        product="p",
        campaign_type="branding",
        campaign="c",
        channel="ooh",
        date=datetime.date(2021, 1, 6),
    )

    response = upload(client, write_auth, GOOD, query="?replace=true")

    assert response.json()["data"]["deleted"] == 1
    assert {row["channel"] for row in listed(client, write_auth)} == {"tv", "radio", "ooh"}


def test_a_read_token_gets_403_and_nothing_changes(client, auth):
    response = upload(client, auth, GOOD)

    assert response.status_code == 403
    assert "write" in response.json()["detail"]
    assert not Measurement.objects.exists()


def test_no_token_gets_401(client):
    response = upload(client, {}, GOOD)

    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_rejected_file_gets_422_with_the_row_errors_and_changes_nothing(
    client, write_auth, organization
):
    measurement(organization, date=datetime.date(2021, 1, 4), conversions=7.0)
    body = GOOD + "p,branding,c,tv,2021-01-06,-5\n,branding,c,tv,2021-01-07,1\n"

    response = upload(client, write_auth, body)

    assert response.status_code == 422
    payload = response.json()
    assert payload["errors"] == [
        {
            "line": 4,
            "column": "conversions",
            "value": "-5",
            "message": "must be a finite number, not negative",
        },
        {"line": 5, "column": "product", "value": "", "message": "must not be empty"},
    ]
    assert payload["error_count"] == 2
    assert "rejected" in payload["detail"]
    assert payload["import_id"] == ImportRecord.objects.get(status="rejected").pk
    assert Measurement.objects.count() == 1
    assert Measurement.objects.get().conversions == 7.0


def test_json_rows_with_errors_are_reported_by_position(client, write_auth):
    rows = [
        {
            "product": "p",
            "campaign_type": "t",
            "campaign": "c",
            "channel": "tv",
            "date": "2021-01-04",
            "conversions": "12",
        }
    ]

    response = upload(client, write_auth, orjson.dumps(rows), content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"line": 1, "column": "conversions", "value": "12", "message": "must be a number"}
    ]


def test_a_body_that_is_not_json_is_a_422(client, write_auth):
    response = upload(client, write_auth, b"[{", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"][0]["column"] == "body"


def test_an_upload_above_the_limit_gets_413_and_changes_nothing(plain_client, write_auth, settings):
    settings.MAX_UPLOAD_BYTES = 40

    response = upload(plain_client, write_auth, GOOD)

    assert response.status_code == 413
    assert set(response.json()) == {"detail"}
    assert not Measurement.objects.exists()


def test_a_chunked_body_without_content_length_is_a_411_not_read_as_empty(client, write_auth):
    response = client.generic(
        "POST",
        URL,
        GOOD.encode(),
        content_type="text/csv",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **write_auth,
    )

    assert response.status_code == 411, response.content
    assert "Content-Length" in response.json()["detail"]
    assert not Measurement.objects.exists()
    assert not ImportRecord.objects.exists()


def test_another_content_type_gets_415(client, write_auth):
    response = upload(client, write_auth, GOOD, content_type="application/xml")

    assert response.status_code == 415
    assert "text/csv" in response.json()["detail"]


def test_a_retried_upload_with_the_same_idempotency_key_is_not_imported_again(client, write_auth):
    first = upload(client, write_auth, GOOD, HTTP_IDEMPOTENCY_KEY="run-42")
    Measurement.objects.update(conversions=99.0)

    again = upload(client, write_auth, GOOD, HTTP_IDEMPOTENCY_KEY="run-42")

    assert again.status_code == 200
    assert again.json()["data"] == {**first.json()["data"], "replayed": True}
    assert set(Measurement.objects.values_list("conversions", flat=True)) == {99.0}
    assert ImportRecord.objects.count() == 1


def test_the_same_idempotency_key_with_other_content_is_a_422(client, write_auth):
    upload(client, write_auth, GOOD, HTTP_IDEMPOTENCY_KEY="run-42")

    response = upload(
        client, write_auth, GOOD + "p,branding,c,tv,2021-01-06,1\n", HTTP_IDEMPOTENCY_KEY="run-42"
    )

    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert Measurement.objects.count() == 2


def test_idempotency_keys_belong_to_one_organisation(client, write_auth):
    other = UserFactory(organization=OrganizationFactory(name="globex"), username="bo")
    other_auth = {
        "HTTP_AUTHORIZATION": f"Bearer {token_issue(user=other, scopes='read write').token}"
    }
    upload(client, write_auth, GOOD, HTTP_IDEMPOTENCY_KEY="run-42")

    response = upload(client, other_auth, GOOD, HTTP_IDEMPOTENCY_KEY="run-42")

    assert response.json()["data"]["replayed"] is False
    assert Measurement.objects.filter(organization__name="globex").count() == 2


def test_the_history_lists_the_organisations_imports_newest_first(client, write_auth):
    other = UserFactory(organization=OrganizationFactory(name="globex"), username="bo")
    other_auth = {
        "HTTP_AUTHORIZATION": f"Bearer {token_issue(user=other, scopes='read write').token}"
    }
    upload(client, other_auth, GOOD)
    upload(client, write_auth, GOOD, HTTP_CONTENT_DISPOSITION='attachment; filename="run1.csv"')
    upload(client, write_auth, HEADER + "p,t,c,tv,2021-01-04,x\n")

    response = client.get("/api/marketing/imports/", **write_auth)

    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"offset": 0, "page_size": 10, "total": 2}
    rejected, accepted = body["data"]
    assert (rejected["status"], rejected["error_count"], rejected["errors"][0]["line"]) == (
        "rejected",
        1,
        2,
    )
    assert accepted["status"] == "accepted"
    assert accepted["file_name"] == "run1.csv"
    assert accepted["uploaded_by"] == "ana"
    assert accepted["source"] == "api"
    assert accepted["sha256"] == hashlib.sha256(GOOD.encode()).hexdigest()
    assert (accepted["rows"], accepted["inserted"], accepted["updated"], accepted["unchanged"]) == (
        2,
        2,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        (GOOD + "p,branding,c,tv,2021-01-06,x\np,branding,c,tv,2021-01-07,1\n", 4),
        (GOOD + "p,branding,c,tv\np,branding,c,tv,2021-01-07,1\n", 4),
        (GOOD + GOOD.removeprefix(HEADER), 4),
        ("product;campaign_type;campaign;channel;date;conversions\np;b;c;tv;2021-01-04;1,5\n", 0),
    ],
    ids=["a bad value", "a row of the wrong width", "repeated rows", "semicolons: none read"],
)
def test_a_rejected_file_is_listed_with_the_rows_it_had(client, write_auth, body, rows):
    """The history showed "Rows 0" for every rejected file."""
    assert upload(client, write_auth, body).status_code == 422

    [rejected] = client.get("/api/marketing/imports/", **write_auth).json()["data"]

    assert (rejected["status"], rejected["rows"]) == ("rejected", rows)
    assert rejected["rows"] == (body.count("\n") - 1 if rows else 0)


def test_the_demo_load_is_in_the_import_history_as_the_file_of_its_rows(client, tmp_path, settings):
    settings.PRODUCTION = False
    call_command("load_demo", rows=60, seed=3, stdout=io.StringIO())
    demo_user = User.objects.get(username=settings.DEMO_USERNAME)
    demo_auth = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=demo_user).token}"}
    written = tmp_path / "demo.csv"
    with written.open("w", encoding="utf-8", newline="") as file:
        write_measurement_csv(demo_story_measurements(rows=60, seed=3), file)

    [record] = client.get("/api/marketing/imports/", **demo_auth).json()["data"]

    assert record["status"] == "accepted"
    assert (record["source"], record["uploaded_by"]) == ("command", "load-demo")
    assert record["file_name"] == "demo story (60 rows, seed 3)"
    assert (record["rows"], record["inserted"]) == (60, 60)
    assert record["sha256"] == hashlib.sha256(written.read_bytes()).hexdigest()
    assert record["size_bytes"] == written.stat().st_size
    total = client.get(URL, **demo_auth).json()["meta"]["total"]
    assert total == 60


def test_the_history_is_paginated(client, write_auth):
    for day in range(1, 4):
        upload(client, write_auth, HEADER + f"p,t,c,tv,2021-01-0{day},1\n")

    response = client.get("/api/marketing/imports/", {"page_size": 2, "offset": 2}, **write_auth)

    assert response.json()["meta"] == {"offset": 2, "page_size": 2, "total": 3}
    assert response.json()["data"][0]["first_date"] == "2021-01-01"


def test_the_history_needs_a_token(client):
    response = client.get("/api/marketing/imports/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Missing, invalid or expired credentials."}


# --- spend ---------------------------------------------------------------------------------


SPENT = (
    "product,campaign_type,campaign,channel,date,conversions,spend\n"
    "p,branding,c,tv,2021-01-04,12.5,4.25\np,branding,c,radio,2021-01-05,3,\n"
)


def test_a_csv_with_spend_gives_each_measurement_its_spend(client, write_auth):
    response = upload(client, write_auth, SPENT)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["inserted"] == 2
    rows = listed(client, write_auth)
    assert [(row["channel"], row["conversions"], row["spend"]) for row in rows] == [
        ("tv", 12.5, 4.25),
        ("radio", 3.0, None),
    ]


def test_a_json_row_may_carry_spend_or_null(client, write_auth):
    row = {"product": "p", "campaign_type": "t", "campaign": "c", "channel": "tv",
           "date": "2021-01-04", "conversions": 8}  # fmt: skip
    rows = [
        {**row, "spend": 2},
        {**row, "channel": "ooh", "spend": None},
        {**row, "channel": "print"},
    ]

    response = upload(client, write_auth, orjson.dumps(rows), content_type="application/json")

    assert response.status_code == 200, response.content
    assert {row["channel"]: row["spend"] for row in listed(client, write_auth)} == {
        "tv": 2.0,
        "ooh": None,
        "print": None,
    }


def test_a_file_without_spend_makes_a_known_spend_unknown_again_and_counts_it_updated(
    client, write_auth
):
    upload(client, write_auth, SPENT)

    response = upload(client, write_auth, GOOD)

    assert (response.json()["data"]["updated"], response.json()["data"]["unchanged"]) == (1, 1)
    assert [row["spend"] for row in listed(client, write_auth)] == [None, None]


def test_a_changed_spend_alone_updates_the_row(client, write_auth):
    upload(client, write_auth, SPENT)

    response = upload(client, write_auth, SPENT.replace(",4.25", ",5"))

    assert (response.json()["data"]["updated"], response.json()["data"]["unchanged"]) == (1, 1)
    assert [row["spend"] for row in listed(client, write_auth)] == [5.0, None]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "must be a finite number, not negative"),
        ("1e16", "must be at most 1e+15, so that sums stay finite"),
        ("lots", "is not a number"),
        ("inf", "must be a finite number, not negative"),
    ],
)
def test_a_bad_spend_gets_422_naming_line_and_column_and_changes_nothing(
    client, write_auth, value, message
):
    upload(client, write_auth, SPENT)

    response = upload(client, write_auth, SPENT.replace(",4.25", f",{value}"))

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"line": 2, "column": "spend", "value": value, "message": message}
    ]
    assert [row["spend"] for row in listed(client, write_auth)] == [4.25, None]


def test_a_json_spend_that_is_not_a_number_gets_422(client, write_auth):
    row = {"product": "p", "campaign_type": "t", "campaign": "c", "channel": "tv",
           "date": "2021-01-04", "conversions": 8, "spend": "4"}  # fmt: skip

    response = upload(client, write_auth, orjson.dumps([row]), content_type="application/json")

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"line": 1, "column": "spend", "value": "4", "message": "must be a number or null"}
    ]
    assert not Measurement.objects.exists()
