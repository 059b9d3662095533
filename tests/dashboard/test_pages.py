"""The dashboard's pages and sign-in through Django's test client: what a browser is sent
(status, redirects, cookies, headers, forms), and the API answering the session."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from marketing_op.accounts.models import Organization
from marketing_op.measurements.models import Measurement
from tests.contract import ContractClient
from tests.factories import TEST_PASSWORD, OrganizationFactory, UserFactory, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

SIGN_IN = "/sign-in/"
VENDOR = (
    Path(__file__).resolve().parents[2]
    / "src/marketing_op/dashboard/static/dashboard/vendor/chartjs"
)


def sign_in(client: Client, username: str = "ana", password: str = TEST_PASSWORD, **extra):
    return client.post(SIGN_IN, {"username": username, "password": password}, **extra)


@pytest.fixture
def signed_in(user) -> ContractClient:
    client = ContractClient()
    assert sign_in(client).status_code == 302
    return client


def test_the_overview_sends_a_stranger_to_the_sign_in_page(client):
    response = client.get("/?channels=tv")

    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/%3Fchannels%3Dtv"


def test_the_sign_in_page_is_a_form_with_username_password_and_csrf_token(client):
    response = client.get(SIGN_IN)

    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_signing_in_opens_a_session_in_an_httponly_lax_cookie_and_shows_the_overview(user):
    client = Client(enforce_csrf_checks=True)
    form = client.get(SIGN_IN)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    assert token is not None

    response = client.post(
        SIGN_IN,
        {"username": "ana", "password": TEST_PASSWORD, "csrfmiddlewaretoken": token.group(1)},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # development; production sets SESSION_COOKIE_SECURE
    overview = client.get("/")
    assert overview.status_code == 200
    assert "Overview" in overview.content.decode()


def test_a_sign_in_without_the_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)

    response = sign_in(client)

    assert response.status_code == 403
    assert "sessionid" not in response.cookies


def test_a_wrong_password_shows_the_form_again_with_a_message_and_no_session(client, user):
    response = sign_in(client, password="wrong")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "sessionid" not in response.cookies
    assert client.get("/").status_code == 302


def test_a_user_without_an_organisation_cannot_sign_in(client, db):
    UserFactory(username="loner", organization=None)

    response = sign_in(client, username="loner")

    assert response.status_code == 200
    assert "sessionid" not in response.cookies


def test_five_failed_sign_ins_lock_the_username_for_the_form_and_the_token_exchange(
    client, user, api_client
):
    for _ in range(5):
        assert sign_in(client, password="wrong").status_code == 200

    locked = sign_in(client)
    exchange = api_client.get("/api/auth/token/", **api_client.basic("ana", TEST_PASSWORD))

    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "sessionid" not in locked.cookies
    assert exchange.status_code == 429


def test_failed_token_exchanges_lock_the_sign_in_form_too(client, user, api_client):
    for _ in range(5):
        api_client.get("/api/auth/token/", **api_client.basic("ana", "wrong"))

    assert sign_in(client).status_code == 429


def test_signing_out_ends_the_session(signed_in):
    response = signed_in.post("/sign-out/")

    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    assert signed_in.get("/").status_code == 302
    assert signed_in.get("/api/marketing/dimensions/").status_code == 401


def test_signing_out_needs_a_post(signed_in):
    assert signed_in.get("/sign-out/").status_code == 405
    assert signed_in.get("/").status_code == 200


@pytest.mark.parametrize("path", ["/", "/imports/", SIGN_IN])
def test_pages_carry_a_strict_content_security_policy(signed_in, path):
    response = signed_in.get(path, follow=True)

    policy = response["Content-Security-Policy"]
    assert response.status_code == 200
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "private, no-store" or path == SIGN_IN


@pytest.mark.parametrize("path", ["/", "/imports/", SIGN_IN])
def test_pages_hold_no_inline_script_or_style(signed_in, path):
    page = signed_in.get(path, follow=True).content.decode()

    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert "<style" not in page
    assert re.search(r"\sstyle=", page) is None
    assert re.search(r"\son[a-z]+=", page) is None


def test_api_answers_keep_their_own_policy(signed_in):
    response = signed_in.get("/api/marketing/dimensions/")

    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_api_answers_the_session_with_the_users_own_data(
    signed_in, organization, other_organization
):
    measurement(organization, channel="tv", conversions=120.0)
    measurement(other_organization, channel="radio", conversions=999.0)

    response = signed_in.get("/api/marketing/stats/channel-sales-percentages/")

    assert response.status_code == 200
    assert response.json()["data"] == [{"channel": "tv", "percentage": "100.00"}]


def test_without_a_session_or_token_the_api_still_answers_401(client):
    response = client.get("/api/marketing/dimensions/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="marketing-op"'


@pytest.mark.parametrize(
    "cookie", ["not-a-session", "a" * 32, "x" * 3000, "Z" * 32, "a'; DROP TABLE x"]
)
def test_a_forged_session_cookie_is_a_401_never_an_error(client, cookie):
    client.cookies["sessionid"] = cookie

    assert client.get("/api/marketing/dimensions/").status_code == 401
    assert client.get("/").status_code == 302


CSV = (
    "product,campaign_type,campaign,channel,date,conversions\n"
    "soda,performance,spring,tv,2024-03-04,12.5\n"
)


def _upload(client: Client, **headers):
    return client.post(
        "/api/marketing/measurements/",
        data=CSV.encode(),
        content_type="text/csv",
        HTTP_CONTENT_DISPOSITION='attachment; filename="spring.csv"',
        **headers,
    )


def test_an_import_with_the_session_needs_the_csrf_token(user, organization):
    client = Client(enforce_csrf_checks=True)
    form = client.get(SIGN_IN)
    token = client.cookies["csrftoken"].value
    assert form.status_code == 200
    client.post(
        SIGN_IN, {"username": "ana", "password": TEST_PASSWORD, "csrfmiddlewaretoken": token}
    )
    token = client.cookies["csrftoken"].value  # rotated at sign-in

    refused = _upload(client)
    accepted = _upload(client, HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 200
    assert accepted.json()["data"]["inserted"] == 1
    assert Measurement.objects.filter(organization=organization).count() == 1
    history = client.get("/api/marketing/imports/").json()["data"]
    assert [(item["file_name"], item["uploaded_by"]) for item in history] == [("spring.csv", "ana")]


def test_a_read_token_still_cannot_import_beside_a_session(signed_in, token):
    response = _upload(signed_in, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 403


def test_the_session_is_rate_limited_like_a_token(signed_in, settings):
    settings.RATE_LIMIT_PER_MINUTE = 3
    settings.USER_RATE_LIMIT_PER_MINUTE = 3

    statuses = [signed_in.get("/api/marketing/dimensions/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_the_vendored_chart_library_matches_its_checksums_and_names_its_version():
    sums = (VENDOR / "SHA256SUMS").read_text().split("\n")
    listed = dict(reversed(line.split("  ", 1)) for line in sums if line.strip())
    version = (VENDOR / "VERSION").read_text().split()[1]

    assert set(listed) == {"chart.umd.min.js", "LICENSE.md"}
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert f"Chart.js v{version}\n" in (VENDOR / "chart.umd.min.js").read_text()[:200]
    assert "MIT License" in (VENDOR / "LICENSE.md").read_text()


def test_the_overview_names_the_static_files_it_needs(signed_in):
    page = signed_in.get("/").content.decode()

    scripts = re.findall(r'<script defer src="([^"]+)"', page)
    assert [Path(src).name.split(".")[0] for src in scripts] == ["chart", "common", "overview"]
    for src in [*scripts, *re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)]:
        assert signed_in.get(src).status_code == 200, src


# --- the demo login on a demo instance's sign-in page -----------------------------------------


@pytest.fixture
def demo_user(settings, db):
    organization = OrganizationFactory(name=settings.DEMO_ORGANIZATION)
    return UserFactory(organization=organization, username=settings.DEMO_USERNAME)


def test_the_sign_in_page_of_a_demo_instance_shows_the_demo_login(client, settings, demo_user):
    page = client.get(SIGN_IN).content.decode()

    assert 'id="demo-login"' in page
    assert f"<code>{settings.DEMO_USERNAME}</code>" in page
    assert f"<code>{settings.DEMO_PASSWORD}</code>" in page


def test_without_the_demo_user_the_sign_in_page_shows_no_login(client, settings, user):
    page = client.get(SIGN_IN).content.decode()

    assert 'id="demo-login"' not in page
    assert settings.DEMO_PASSWORD not in page


def test_a_production_instance_never_shows_a_login_even_with_a_user_named_like_the_demo(
    client, settings, demo_user
):
    settings.PRODUCTION = True

    page = client.get(SIGN_IN).content.decode()

    assert 'id="demo-login"' not in page
    assert settings.DEMO_PASSWORD not in page


def test_a_demo_user_moved_out_of_the_demo_organisation_is_not_shown(
    client, settings, demo_user, organization
):
    demo_user.organization = organization
    demo_user.save()

    assert 'id="demo-login"' not in client.get(SIGN_IN).content.decode()


# --- the organisation's currency ----------------------------------------------------------------


def test_create_organization_sets_the_currency_the_pages_show_spend_in(db):
    out = io.StringIO()
    call_command("create_organization", "dollar drinks", "--currency", "usd", stdout=out)
    call_command("create_organization", "euro drinks", stdout=out)
    UserFactory(organization=Organization.objects.get(name="dollar drinks"), username="dan")
    UserFactory(organization=Organization.objects.get(name="euro drinks"), username="eva")

    pages = {}
    for username in ("dan", "eva"):
        client = Client()
        assert sign_in(client, username=username).status_code == 302
        pages[username] = client.get("/").content.decode()

    assert "Created organisation 'dollar drinks' (spend in USD)" in out.getvalue()
    assert re.search(r'<body [^>]*data-currency="USD"', pages["dan"])
    assert re.search(r'<body [^>]*data-currency="EUR"', pages["eva"])


@pytest.mark.parametrize("currency", ["euro", "E1R", "", "€"])
def test_create_organization_refuses_a_currency_that_is_no_iso_code(db, currency):
    with pytest.raises(CommandError, match="is not a three-letter ISO 4217 code"):
        call_command("create_organization", "acme", "--currency", currency)

    assert not Organization.objects.filter(name="acme").exists()
