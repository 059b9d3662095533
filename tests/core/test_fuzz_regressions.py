"""What the schemathesis run of tests/test_fuzz.py found, pinned down one case at a time."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.contract import ContractClient
from tests.factories import TEST_PASSWORD
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
