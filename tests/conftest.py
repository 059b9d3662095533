from __future__ import annotations

from typing import Any

import pytest

from marketing_op.accounts.models import Organization, User
from marketing_op.accounts.services import token_issue
from tests.contract import ContractClient
from tests.factories import OrganizationFactory, UserFactory


@pytest.fixture
def api_client() -> ContractClient:
    return ContractClient()


@pytest.fixture
def organization(db: Any) -> Organization:
    return OrganizationFactory(name="acme")


@pytest.fixture
def other_organization(db: Any) -> Organization:
    return OrganizationFactory(name="globex")


@pytest.fixture
def user(organization: Organization) -> User:
    return UserFactory(organization=organization, username="ana")


@pytest.fixture
def token(user: User) -> str:
    return token_issue(user=user).token


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    """Headers of an authenticated request as the ``user`` of ``organization``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
