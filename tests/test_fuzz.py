"""Schemathesis against the service's own OpenAPI document: no server errors, no drift.

Every operation of docs/openapi.yaml is called through the WSGI application with data the
document allows and data it forbids (the examples, coverage and fuzzing phases, in positive
and negative mode), and every response goes through every check of schemathesis:
server errors, status codes, content types, headers and bodies against the document,
acceptance of valid and rejection of invalid data, and ``ignored_auth``, which repeats each
successful request without credentials and with wrong ones. Negative cases also drop or
spoil the ``Authorization`` header itself.

Credentials come from the real token exchange: HTTP Basic for the exchange, a bearer token
with the ``write`` scope that it issued for everything else. Strings include NUL characters,
and integers go far beyond 64 bits.
"""

from __future__ import annotations

import base64
import csv
import datetime
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup

from marketing_op.accounts import throttling
from marketing_op.config.wsgi import application
from tests.factories import TEST_PASSWORD, OrganizationFactory, UserFactory, measurement

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
FUZZ_USERNAME = "fuzzer"
WRITE_SCOPE = "read write"

# Lists whose filters may name a start_date after the end_date (or a cursor that the list did
# not give out): the document answers 400, a rule that a JSON Schema of each parameter cannot
# state. The body of that 400 is still checked against the document.
DATE_RANGE_OPERATIONS = [
    "measurement_list",
    "channel_share_list",
    "channel_share_list_old_path",
    "channel_weekly_sales_list",
]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240611,
        "generation": {
            "mode": "all",
            "max-examples": 30,
            "deterministic": True,
            "allow-x00": True,
            "with-security-parameters": True,
            "database": "none",
        },
        "checks": {"enabled": True},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "operations": [
            {
                "include-operation-id": DATE_RANGE_OPERATIONS,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "3xx", 400, 401, 403, 404, 409, 429]
                    }
                },
            },
            {
                # A report's parameters depend on each other (a comparison needs a date range
                # of the same length, order_by names one of the report's own dimensions and
                # metrics) and on the data (at most 100,000 rows): the document answers 422
                # and 400, rules that a JSON Schema of each parameter cannot state.
                "include-operation-id": ["report_list"],
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "3xx", 400, 401, 403, 404, 409, 422, 429]
                    }
                },
            },
            {
                # Whether a CSV text is a valid file is beyond a JSON Schema: the document
                # answers a rejected file with a 422 that lists the problems. An empty text
                # goes without a Content-Length, which the document answers with a 411.
                "include-operation-id": ["measurement_import"],
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 411, 422, 429]
                    }
                },
            },
        ],
    }
)

IMPORT_COLUMNS = ["product", "campaign_type", "campaign", "channel", "date", "conversions", "spend"]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """CSV files of the import's columns (sometimes one short, or one more), with values it
    reads (dates, numbers, names, blanks) and values it rejects (any text), in UTF-8."""
    columns = draw(st.sampled_from([IMPORT_COLUMNS, IMPORT_COLUMNS[:-1], [*IMPORT_COLUMNS, "x"]]))
    text = st.text(max_size=12)
    values = {
        "date": st.dates(datetime.date(1899, 12, 1), datetime.date(3000, 1, 31)).map(str) | text,
        "conversions": st.floats(allow_nan=True).map(repr) | st.integers().map(str) | text,
        "spend": st.floats(min_value=-1, max_value=1e16).map(repr) | st.just("") | text,
        "channel": st.sampled_from(["tv", "radio", "search"]) | text,
    }
    rows = draw(st.lists(st.tuples(*[values.get(column, text) for column in columns]), max_size=8))
    written = io.StringIO()
    writer = csv.writer(written, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return written.getvalue().encode("utf-8", "surrogatepass")


def gzip_bodies() -> st.SearchStrategy[bytes]:
    """Bodies sent as application/gzip: compressed CSV files, gzip streams cut short, and
    bytes that are no gzip at all."""
    compressed = csv_files().map(lambda body: gzip.compress(body, mtime=0))
    return st.one_of(
        compressed,
        st.tuples(compressed, st.integers(1, 40)).map(lambda cut: cut[0][: -cut[1]]),
        st.binary(max_size=64),
    )


# Schemathesis cannot write an application/gzip body by itself (it skipped them, with a
# warning): the strategy above writes them.
schemathesis.openapi.media_type("application/gzip", gzip_bodies())

schema = schemathesis.openapi.from_path(OPENAPI_PATH, config=CONFIG)
schema.app = application

pytestmark = pytest.mark.django_db(transaction=True)


def basic_authorization(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def token_exchange(*, scope: str = WRITE_SCOPE) -> str:
    """A new bearer token, issued by GET /api/auth/token/ for the fuzz user."""
    response = Client().get(
        "/api/auth/token/",
        {"scope": scope},
        HTTP_AUTHORIZATION=basic_authorization(FUZZ_USERNAME, TEST_PASSWORD),
    )
    assert response.status_code == 200, response.content
    return str(response.json()["data"]["token"])


@dataclass
class FuzzSession:
    """The credentials of the test that runs now; the auth provider below reads them."""

    bearer: str = ""


SESSION = FuzzSession()


@schema.auth(refresh_interval=None)
class TokenExchangeAuth:
    """Basic credentials where the document asks for them, else a bearer token.

    Schemathesis leaves a case alone when it spoils or drops the credentials on purpose.
    """

    def get(self, case: Any, context: Any) -> str | None:
        schemes = {
            name
            for requirement in case.operation.definition.raw.get("security", [])
            for name in requirement
        }
        if "basicAuth" in schemes:
            return basic_authorization(FUZZ_USERNAME, TEST_PASSWORD)
        if "bearerAuth" not in schemes or not SESSION.bearer:
            return None
        if case.method.upper() == "DELETE":
            # Revokes the token of its request: a token of its own, so the shared one lives on.
            return f"Bearer {token_exchange()}"
        return SESSION.bearer

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


def seed_measurements() -> None:
    """Some rows in the fuzz organisation, so that lists, shares and weeks have data."""
    organization = OrganizationFactory(name="fuzz")
    UserFactory(organization=organization, username=FUZZ_USERNAME)
    first_day = datetime.date(2020, 12, 28)
    for day in range(12):
        for channel, conversions in (("tv", 420.5), ("radio", 200.25), ("facebook", 0.0)):
            measurement(
                organization,
                product="energy drink" if day % 2 else "sparkling water",
                campaign_type="branding" if day % 3 else "always on",
                campaign=f"winter sale #{day % 4}",
                channel=channel,
                date=first_day + datetime.timedelta(days=day * 3),
                conversions=conversions * (day + 1),
            )


@pytest.fixture
def fuzz_session(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    # Thousands of requests a minute with one token; the limiter has tests of its own.
    settings.RATE_LIMIT_PER_MINUTE = 10**9
    settings.USER_RATE_LIMIT_PER_MINUTE = 10**9
    settings.TOKEN_EXCHANGES_PER_HOUR = 10**9
    # ignored_auth repeats every exchange with wrong credentials; no lockout may follow.
    monkeypatch.setattr(throttling, "MAX_FAILED_LOGINS_PER_USERNAME", 10**9)
    monkeypatch.setattr(throttling, "MAX_FAILED_LOGINS_PER_ADDRESS", 10**9)
    seed_measurements()
    SESSION.bearer = f"Bearer {token_exchange()}"
    yield SESSION
    SESSION.bearer = ""


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_conforms_to_document(case: Any, fuzz_session: FuzzSession) -> None:
    case.call_and_validate()


MEASUREMENT_IMPORT = schema["/api/marketing/measurements/"]["POST"]


@given(body=gzip_bodies())
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_gzip_imports_get_documented_answers(body: bytes, fuzz_session: FuzzSession) -> None:
    """Compressed CSV files, cut-off gzip streams and bytes that are no gzip, sent as
    application/gzip: every answer is one the document gives (411 for an empty body), and
    none is a server error."""
    case = MEASUREMENT_IMPORT.Case(body=body, media_type="application/gzip")

    response = case.call_and_validate(headers={"Authorization": fuzz_session.bearer})

    assert response.status_code in {200, 411, 413, 422}, response.text[:300]


HUGE = 10**40
HOSTILE_STRINGS = ["\x00", "tv\x00", "\x00" * 300, "9" * 400]
# Not ISO dates, though a lax parser reads them as Unix timestamps or datetimes.
NOT_DATES = ["0", "86400", "-86400", "2021-01-01T00:00:00"]


def hostile_cases() -> list[tuple[Any, bool]]:
    """Every GET operation with each hostile value in every query parameter, and whether the
    value is certainly invalid for the document (so the answer must be a 4xx)."""
    cases = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        for parameter in operation.query:
            parameter_schema = parameter.definition.get("schema", {})
            values: list[tuple[Any, bool]] = [(value, False) for value in HOSTILE_STRINGS]
            if parameter_schema.get("type") == "integer":
                values = [(HUGE, True), (-HUGE, True), (str(HUGE), True)]
            elif parameter_schema.get("format") == "date":
                values += [(value, True) for value in NOT_DATES]
            for value, invalid in values:
                cases.append((operation.Case(query={parameter.name: value}), invalid))
    return cases


def test_nul_characters_huge_integers_and_non_dates_get_documented_answers(
    fuzz_session: FuzzSession,
) -> None:
    failures = []
    for case, invalid in hostile_cases():
        security = case.operation.definition.raw.get("security", [])
        schemes = {name for requirement in security for name in requirement}
        headers = {}
        if "basicAuth" in schemes:
            headers["Authorization"] = basic_authorization(FUZZ_USERNAME, TEST_PASSWORD)
        elif "bearerAuth" in schemes:
            headers["Authorization"] = fuzz_session.bearer
        label = f"{case.method} {case.path} {case.query!r}"
        try:
            response = case.call_and_validate(headers=headers)
        except FailureGroup as error:  # every case is reported, not only the first
            failures.append(f"{label}: {str(error)[:300]}")
            continue
        if invalid and not 400 <= response.status_code < 500:
            failures.append(f"{label}: an invalid value was answered {response.status_code}")
    assert not failures, f"{len(failures)} failed:\n" + "\n".join(failures)


# --- hostile shapes (issue 12): each request gets a documented 4xx or a 2xx, never a 5xx ------

DATA_LISTS = [
    "/api/marketing/measurements/",
    "/api/marketing/stats/channel-sales-percentages/",
    "/api/marketing/stats/channels-sales-percentages/",
    "/api/marketing/stats/channel-weekly-sales/",
]
EVERY_GET = [*DATA_LISTS, "/api/health/", "/api/marketing/dimensions/", "/api/marketing/imports/"]
CSV_HEADER = "product,campaign_type,campaign,channel,date,conversions\n"


@dataclass(frozen=True)
class Shape:
    """One hostile request: method, path, query, headers and body as a client can send them."""

    method: str = "GET"
    path: str = "/api/marketing/measurements/"
    query: str = ""
    headers: dict[str, str] | None = None
    body: bytes = b""
    content_type: str = "text/csv"


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def many_parameters(count: int) -> str:
    return "&".join(f"channel=c{number}" for number in range(count))


HOSTILE_SHAPES = [
    *[
        pytest.param(Shape(path=path, query=many_parameters(1001)), id=f"1001 params {path}")
        for path in EVERY_GET
    ],
    pytest.param(Shape(query=many_parameters(1000)), id="1000 params"),
    pytest.param(Shape(query="page_size=" + "9" * 5000), id="huge page size"),
    pytest.param(Shape(query="offset=" + "9" * 400), id="huge offset"),
    pytest.param(Shape(query="offset=1e308"), id="float offset"),
    pytest.param(Shape(headers={"X-Big": "a" * 65_536}), id="64 KiB header"),
    pytest.param(
        Shape(headers={f"X-Field-{number}": "1" for number in range(500)}), id="500 headers"
    ),
    pytest.param(Shape(headers={"If-None-Match": '"' + "a" * 20_000 + '"'}), id="huge ETag"),
    *[
        pytest.param(Shape(path="/api/health/", headers={"Host": host}), id=f"host {host[:20]}")
        for host in ["evil.example", "localhost:6666:1", "[::1", "a" * 300]
    ],
    pytest.param(
        Shape(headers={"Host": "localhost:6666", "X-Forwarded-Proto": "https"}),
        id="forwarded https on another port",
    ),
    *[
        pytest.param(
            Shape(path=path, query=query),
            id=f"{query} {path}",
        )
        for path in [DATA_LISTS[0], DATA_LISTS[1], DATA_LISTS[3]]
        for query in ["end_date=9999-12-31", "start_date=9999-12-26", "end_date=0001-01-06"]
    ],
    pytest.param(
        Shape(method="POST", body=deep_json(100_000), content_type="application/json"),
        id="JSON nested 100,000 deep",
    ),
    pytest.param(
        Shape(
            method="POST", body=b"[" + b"{}," * 100_000 + b"{}]", content_type="application/json"
        ),
        id="JSON list of empty objects",
    ),
    pytest.param(
        Shape(
            method="POST",
            body=(CSV_HEADER + "p,branding,c,tv,9999-12-30,1\n").encode(),
        ),
        id="import a date at the end of the calendar",
    ),
    pytest.param(
        Shape(
            method="POST",
            body=(CSV_HEADER + "p,branding,c,tv,2021-01-04,1e400\n").encode(),
        ),
        id="import a number beyond a double",
    ),
    pytest.param(
        Shape(
            method="POST",
            body=(
                CSV_HEADER
                + "p,branding,c1,tv,2021-01-04,1.7e308\n"
                + "p,branding,c2,tv,2021-01-04,1.7e308\n"
            ).encode(),
        ),
        id="import two rows of one day whose sum overflows",
    ),
    pytest.param(
        Shape(
            method="POST",
            body=(
                CSV_HEADER
                + "p,branding,c,tv,2021-01-04,1.7e308\n"
                + "p,branding,c,tv,2021-01-05,1.7e308\n"
            ).encode(),
        ),
        id="import two days of one week whose sum overflows",
    ),
    pytest.param(
        Shape(method="POST", body=b"\x1f\x8b" + b"\x00" * 64, content_type="text/csv"),
        id="import a broken gzip",
    ),
]


@pytest.mark.parametrize("shape", HOSTILE_SHAPES)
def test_hostile_shapes_get_no_server_error(shape: Shape, fuzz_session: FuzzSession) -> None:
    headers = {"Authorization": fuzz_session.bearer, "Host": "localhost", **(shape.headers or {})}
    extra = {
        "HTTP_" + name.upper().replace("-", "_"): value
        for name, value in headers.items()
        if name != "Host"
    }
    client = Client(HTTP_HOST=headers["Host"])
    path = f"{shape.path}?{shape.query}" if shape.query else shape.path
    if shape.method == "POST":
        response = client.post(path, shape.body, content_type=shape.content_type, **extra)
    else:
        response = client.generic(shape.method, path, **extra)

    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    for shown in (response, *[v for _, v in response.items()]):
        assert "Traceback" not in str(shown)
    if 400 <= response.status_code < 500:
        assert "detail" in response.json()
    # And the data of the organisation is still answered, with every sum finite.
    shares = Client().get(
        "/api/marketing/stats/channel-sales-percentages/",
        HTTP_AUTHORIZATION=fuzz_session.bearer,
    )
    assert shares.status_code == 200, shares.content[:300]


def test_no_server_error_while_redis_is_down(
    fuzz_session: FuzzSession, unreachable_cache: Any
) -> None:
    client = Client(HTTP_AUTHORIZATION=fuzz_session.bearer)
    statuses = [
        client.get(path).status_code
        for path in ["/api/health/", "/api/marketing/dimensions/", *DATA_LISTS]
    ]
    statuses.append(
        client.get(
            "/api/auth/token/",
            HTTP_AUTHORIZATION=basic_authorization(FUZZ_USERNAME, TEST_PASSWORD),
        ).status_code
    )

    assert all(status < 500 for status in statuses), statuses
