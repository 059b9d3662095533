"""The real server (``marketing-op serve``, as ``make run`` starts it, with the demo data and
the static files collected with hashed names) and Debian's Chromium, for the browser tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.dashboard.browser import (
    DOLLAR_FILE,
    DOLLAR_LOGIN,
    DOLLAR_ORGANIZATION,
    PROVIDER_NAME,
    PROVIDER_SUBJECT,
    PROVIDER_USER,
    WIDTHS,
    Watched,
    sign_in,
)
from tests.identity_provider import AUDIENCE, CLIENT_ID, CLIENT_SECRET, IdentityProvider
from tests.servers import COMMAND, server_environment, start_server, stop_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def site_environment(
    tmp_path_factory: pytest.TempPathFactory, identity_provider_server: IdentityProvider
) -> dict[str, str]:
    """The environment of the real server: a fresh database with the demo data, static
    files collected, signing in through the test identity provider too (and a user of the
    demo organisation with its OpenID subject)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: `make test` installs Debian's chromium package "
            "(apt-get install chromium), or set CHROMIUM to its path."
        )
    home = tmp_path_factory.mktemp("dashboard")
    environment = server_environment(home, f"sqlite:///{home / 'dashboard.sqlite3'}")
    environment["STATIC_ROOT"] = str(home / "static")
    environment.update(
        {
            "OIDC_ISSUER": identity_provider_server.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_AUDIENCE": AUDIENCE,
            "OIDC_PROVIDER_NAME": PROVIDER_NAME,
        }
    )
    sso_user = ["--organization", "demo", "--username", PROVIDER_USER]
    for step in (
        ["migrate", "-v", "0"],
        ["load-demo"],
        ["create-user", *sso_user, "--oidc-subject", PROVIDER_SUBJECT],
        ["collectstatic", "--no-input", "-v", "0"],
    ):
        subprocess.run([*COMMAND, *step], env=environment, check=True, timeout=300)
    return environment


@pytest.fixture(scope="session")
def site(site_environment: dict[str, str]) -> Iterator[str]:
    """The real server (``marketing-op serve``) on that database. One for the session: the
    browser tests and the quality tests share it (a minute of setup each under load); each
    test asks the API for what it expects, so what another test imported changes no
    expectation."""
    base, _, process = start_server(site_environment)
    yield base
    stop_server(process)


@pytest.fixture(scope="session")
def dollar_organization(site: str, site_environment: dict[str, str], tmp_path_factory: Any) -> str:
    """A second organisation on the site, whose spend is in US dollars, with a user and two
    rows; its name."""
    dollars = tmp_path_factory.mktemp("dollars") / "dollars.csv"
    dollars.write_text(DOLLAR_FILE)
    environment = {**site_environment, "MARKETING_OP_PASSWORD": DOLLAR_LOGIN[1]}
    for step in (
        ["create-organization", DOLLAR_ORGANIZATION, "--currency", "USD"],
        ["create-user", "--organization", DOLLAR_ORGANIZATION, "--username", DOLLAR_LOGIN[0]],
        ["import", str(dollars), "--organization", DOLLAR_ORGANIZATION],
    ):
        subprocess.run([*COMMAND, *step], env=environment, check=True, timeout=300)
    return DOLLAR_ORGANIZATION


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[Any]:
    """Chromium for one module: Playwright's sync API keeps an event loop running while it is
    open, and Django refuses database queries under a running loop, so the tests of other
    modules that run after these on the same worker must not find it open."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any, site: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=site,
        locale="en-US",
        timezone_id="UTC",
        viewport=WIDTHS["desktop"],
        accept_downloads=True,
    )
    yield context
    context.close()


@pytest.fixture
def watched(context: Any) -> Iterator[Watched]:
    watched = Watched(context.new_page())
    yield watched
    assert watched.problems == [], "\n".join(watched.problems)


@pytest.fixture
def overview(watched: Watched) -> Any:
    sign_in(watched.page)
    return watched.page
