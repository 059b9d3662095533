"""What the browser tests share: the pages under watch, signing in, waiting for a redraw,
asking the API with the page's session, and screenshots at both widths."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DEMO_LOGIN = ("marketing_op", "marketing_op_supersecret")
PROVIDER_NAME = "the test provider"
PROVIDER_SUBJECT = "00u-demo-analyst"
PROVIDER_USER = "analyst.sso"
"""The loopback identity provider's name, and the subject and user of the demo organisation
that signs in through it."""
DOLLAR_ORGANIZATION = "dollar drinks"
DOLLAR_LOGIN = ("dollar.analyst", "a dollar analyst's passphrase 42")
DOLLAR_FILE = (
    "product,campaign_type,campaign,channel,date,conversions,spend\n"
    "cola,performance,spring push,tv,2023-03-06,1234.5,617.25\n"
    "cola,performance,spring push,radio,2023-03-07,432.0,100.5\n"
)
"""An organisation that counts its spend in US dollars (``create-organization --currency``)."""


def whole(number: float) -> int:
    """``number`` to the nearest whole number, halves away from zero, as the page's
    ``Intl.NumberFormat`` rounds (Python's ``round`` takes 14.5 to 14; the page shows 15)."""
    return int(Decimal(number).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def signed_percent(ratio: float) -> str:
    """``ratio`` as the page's percent change shows it (``Intl.NumberFormat``, one decimal,
    halves away from zero, ``signDisplay: "exceptZero"``): "+12.3%", "-0.4%", and "0.0%"
    with no sign for a change that rounds to zero."""
    shown = (Decimal(ratio) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return "0.0%" if shown == 0 else f"{shown:+}%"


WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 800}}


class Watched:
    """A page whose console errors, uncaught errors and CSP violations are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console {message.type}: {message.text}")


def sign_in(page: Any, path: str = "/", login: tuple[str, str] = DEMO_LOGIN) -> None:
    page.goto(path)
    page.get_by_label("Username").fill(login[0])
    page.get_by_label("Password").fill(login[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector('body[data-state="ready"]')


def after(page: Any, action: Any) -> None:
    """Do ``action`` and wait until the page has drawn what it loaded for it; by then the
    overview has marked its figures and charts drawn, which the speed benchmark times."""
    page.evaluate("document.body.dataset.state = 'changing'")
    action()
    page.wait_for_selector('body[data-state="ready"]')
    assert page.evaluate("document.body.dataset.charts") in (None, "drawn")


def api(page: Any, path: str, params: dict[str, Any] | None = None) -> Any:
    """The API's answer to the page's session."""
    url = f"{path}?{urlencode(params or {}, doseq=True)}"
    response = page.request.get(url)
    assert response.status == 200, (url, response.text())
    return response.json()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(WIDTHS["desktop"])
