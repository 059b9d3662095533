"""What the schemathesis run of tests/test_fuzz.py found, pinned down one case at a time."""

from __future__ import annotations

import datetime
import re
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from marketing_op.accounts.models import Organization
from tests.contract import ContractClient
from tests.factories import TEST_PASSWORD, measurement
from tests.test_openapi_document import document

pytestmark = [pytest.mark.api, pytest.mark.django_db]


def scope_pattern() -> re.Pattern[str]:
    return re.compile(document()["components"]["parameters"]["scope"]["schema"]["pattern"])


@pytest.mark.parametrize(
    ("scope", "granted"),
    [
        ("", "read"),
        ("   ", "read"),
        ("write", "read write"),
        ("  read   write ", "read write"),
        ("write read write", "read write"),
    ],
)
def test_scopes_that_the_document_allows_are_granted(
    api_client: ContractClient, user: object, scope: str, granted: str
) -> None:
    assert scope_pattern().fullmatch(scope)

    response = api_client.get(
        f"/api/auth/token/?scope={quote(scope)}", **api_client.basic("ana", TEST_PASSWORD)
    )

    assert response.status_code == 200
    assert response.json()["data"]["scopes"] == granted


@pytest.mark.parametrize(
    "scope",
    ["0" * 99, "readwrite", "read\twrite", "read\nwrite", "read\x00", "admin", "read,write"],
)
def test_scopes_that_the_document_forbids_are_refused_with_a_message(
    api_client: ContractClient, user: object, scope: str
) -> None:
    """Found by the fuzzer: a tab separated scopes though the document allowed only spaces,
    and the document allowed any string, so every unknown scope was a valid request refused."""
    assert not scope_pattern().fullmatch(scope)

    response = api_client.get(
        f"/api/auth/token/?scope={quote(scope)}", **api_client.basic("ana", TEST_PASSWORD)
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("Unknown scope: ")


# --- hostile shapes of a request (issue 12, items 6 and 11) -----------------------------------

PROMISED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
EVERY_OPERATION = [
    ("get", "/api/health/"),
    ("get", "/api/auth/token/"),
    ("post", "/api/auth/token/"),
    ("delete", "/api/auth/token/"),
    ("get", "/api/token/"),
    ("get", "/api/marketing/measurements/"),
    ("post", "/api/marketing/measurements/"),
    ("get", "/api/marketing/stats/channel-sales-percentages/"),
    ("get", "/api/marketing/stats/channels-sales-percentages/"),
    ("get", "/api/marketing/stats/channel-weekly-sales/"),
    ("get", "/api/marketing/dimensions/"),
    ("get", "/api/marketing/imports/"),
]


def assert_promised_headers(response: object) -> None:
    for header, value in PROMISED_HEADERS.items():
        assert response[header] == value, header  # type: ignore[index]


@pytest.mark.parametrize(("method", "path"), EVERY_OPERATION)
def test_1001_query_parameters_are_a_400_with_a_message_on_every_endpoint(
    auth: dict[str, str], method: str, path: str
) -> None:
    """Was a 500 (Django's TooManyFieldsSent) on every endpoint. (The contract client cannot
    read such a query either: the document is checked for the 400 by hand.)"""
    query = "&".join(f"p{number}=1" for number in range(1001))

    response = Client().generic(method.upper(), f"{path}?{query}", **auth)

    assert response.status_code == 400
    assert response.json() == {"detail": "Too many query parameters: at most 1000."}
    assert_promised_headers(response)
    assert "400" in document()["paths"][path][method]["responses"]


def test_1000_query_parameters_are_read(
    api_client: ContractClient, organization: Organization, auth: dict[str, str]
) -> None:
    """1,000 is the most a query may hold, and all of them are read: the channels filter
    named a thousand times answers as when it is named once."""
    monday = datetime.date(2021, 1, 4)
    measurement(organization, channel="tv", date=monday, conversions=3)
    measurement(organization, channel="radio", date=monday, conversions=5)
    query = "&".join(["channels=tv"] * 1000)

    response = api_client.get(f"/api/marketing/measurements/?{query}", **auth)

    assert response.status_code == 200
    assert [(row["channel"], row["conversions"]) for row in response.json()["data"]] == [
        ("tv", 3.0)
    ]
    assert response.json()["meta"]["total"] == 1


@pytest.mark.parametrize(
    ("method", "path", "extra", "status", "detail"),
    [
        ("get", "/api/no-such-endpoint/", {}, 404, "Not found."),
        ("get", "/favicon.ico", {}, 404, "Not found."),
        ("put", "/api/marketing/measurements/", {}, 405, "Method not allowed."),
        (
            "post",
            "/api/marketing/measurements/",
            {"CONTENT_LENGTH": str(10**12)},
            413,
            "The request body is larger than 52428800 bytes.",
        ),
        ("get", "/api/health/", {"HTTP_HOST": "evil.example"}, 400, "Bad request."),
        ("get", "/api/health/", {"HTTP_HOST": "localhost:6666:1"}, 400, "Bad request."),
        ("get", "/", {"HTTP_HOST": "[::1"}, 400, "Bad request."),
    ],
    ids=[
        "unknown path",
        "outside the API",
        "wrong method",
        "body too large",
        "odd host",
        "two ports",
        "broken IPv6 host",
    ],
)
def test_errors_that_django_answers_itself_are_json_with_the_promised_headers(
    auth: dict[str, str], method: str, path: str, extra: dict[str, str], status: int, detail: str
) -> None:
    """404 and 405 carried only the CSP header, 413 none of the others, and a disallowed
    Host got Django's HTML page."""
    response = Client().generic(method.upper(), path, **{**auth, **extra})

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail}
    assert_promised_headers(response)
    if status == 405:
        assert "GET" in response["Allow"]


def test_a_successful_answer_carries_the_promised_headers(
    api_client: ContractClient, auth: dict[str, str]
) -> None:
    response = api_client.get("/api/marketing/dimensions/", **auth)

    assert response.status_code == 200
    assert_promised_headers(response)


# --- hostile shapes of a report (issue 24, items 3 and 7) ----------------------------------

HOSTILE_REPORTS = {
    "every day of two centuries, compared": (
        "granularity=day&start_date=1900-01-01&end_date=2099-12-31&compare=previous_year"
        "&metrics=conversions,measurements,share,spend,roas,cpa&dimensions=channel",
        400,
    ),
    "fourteen order_by keys": (
        "metrics=conversions,spend&"
        + "&".join(["order_by=conversions", "order_by=-conversions"] * 7),
        422,
    ),
    "one field ordered both ways": ("dimensions=channel&order_by=channel,-channel", 422),
    "a typo of dimensions": ("dimension=channel", 422),
    "a comparison range in year 1": (
        "granularity=month&start_date=2021-01-01&end_date=2021-01-31"
        "&compare_start_date=0001-01-01&compare_end_date=0001-01-31",
        422,  # wholly before the calendar, it is not as long as the range once clamped
    ),
    "the last days of the calendar a year before": (
        "granularity=week&start_date=9998-12-01&end_date=9999-12-31&compare=previous_year",
        200,
    ),
    "the first days of the calendar, the period before": (
        "granularity=quarter&start_date=0001-01-01&end_date=0001-12-31&compare=previous_period",
        200,
    ),
}


@pytest.mark.parametrize("shape", HOSTILE_REPORTS, ids=list(HOSTILE_REPORTS))
def test_hostile_report_shapes_get_a_clear_answer(
    api_client: ContractClient, auth: dict[str, str], organization: object, shape: str
) -> None:
    for channel in ("tv", "radio"):
        measurement(organization, channel=channel, date=datetime.date(2021, 1, 4))
    query, status = HOSTILE_REPORTS[shape]

    response = api_client.get(f"/api/marketing/reports/?{query}", **auth)

    assert response.status_code == status, response.content
    if status != 200:
        assert response.json()["detail"]


# --- memory: any stream of report pages keeps a worker's copies within their bytes ---------

report_questions = st.lists(
    st.tuples(
        st.sampled_from(["day", "week", "month", "total"]),
        st.sampled_from(["channel", "campaign", "channel,campaign", "product,channel"]),
        st.integers(min_value=1, max_value=10_000),
        st.integers(min_value=0, max_value=300),
        st.integers(min_value=1, max_value=28),
    ),
    min_size=1,
    max_size=8,
)


@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(questions=report_questions)
def test_any_report_pages_keep_the_worker_copies_within_worker_cache_bytes(
    api_client: ContractClient,
    auth: dict[str, str],
    organization: object,
    settings: object,
    questions: list[tuple[str, str, int, int, int]],
) -> None:
    """Issue 24, item 4: whatever pages are asked (sizes, offsets, shapes), the bytes the
    worker keeps, as /metrics reports them, stay within WORKER_CACHE_BYTES."""
    import datetime

    from marketing_op.core.caching import forget_worker_copies
    from marketing_op.measurements.models import Measurement
    from tests.factories import measurement

    settings.METRICS_TOKEN = ""  # type: ignore[attr-defined]
    settings.WORKER_CACHE_BYTES = bound = 40_000  # type: ignore[attr-defined]
    forget_worker_copies()
    if not Measurement.objects.filter(organization=organization).exists():
        for day in range(56):
            for campaign, channel in (("spring", "tv"), ("spring", "radio"), ("autumn", "ooh")):
                measurement(
                    organization,
                    campaign=campaign,
                    channel=channel,
                    date=datetime.date(2021, 1, 1) + datetime.timedelta(days=day),
                    conversions=float(day),
                    spend=day,
                )
    for granularity, dimensions, page_size, offset, start in questions:
        response = api_client.get(
            f"/api/marketing/reports/?granularity={granularity}&dimensions={dimensions}"
            f"&metrics=conversions,spend,roas,cpa,measurements&page_size={page_size}"
            f"&offset={offset}&start_date=2021-01-{start:02d}",
            **auth,
        )
        assert response.status_code == 200, response.content
        metrics = Client().get("/metrics").content.decode()
        held = re.search(r"^marketing_op_worker_cache_bytes (\S+)$", metrics, re.MULTILINE)
        assert held is not None
        assert float(held.group(1)) <= bound
