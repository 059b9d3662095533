"""The identity provider's JWT access tokens on the API: every rule, each with a token that
breaks it, against the test provider on loopback (tests/identity_provider.py)."""

import base64
import hashlib
import hmac
import json
import socket
import time

import pytest
from joserfc.jwk import RSAKey

from marketing_op.accounts.identity_provider import discovery
from marketing_op.accounts.identity_provider.discovery import forget_provider_state
from tests.factories import UserFactory, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

DATA_URL = "/api/marketing/measurements/"
SUBJECT = "4f1c-ana-at-the-provider"


@pytest.fixture
def sso_user(organization):
    measurement(organization, channel="tv", conversions=420.0)
    return UserFactory(organization=organization, username="ana.sso", oidc_subject=SUBJECT)


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def answer(client, token, path=DATA_URL):
    return client.get(path, **bearer(token))


def refused(response, status=401):
    assert response.status_code == status, response.content
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    return response.json()["detail"]


def unsigned(header, claims):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


# --- accepted ---------------------------------------------------------------------------------


def test_a_provider_token_opens_the_data_of_its_users_organisation(
    api_client, identity_provider, sso_user
):
    response = answer(api_client, identity_provider.access_token(SUBJECT))

    assert response.status_code == 200, response.content
    assert [row["conversions"] for row in response.json()["data"]] == [420.0]


def test_an_elliptic_curve_key_works_too(api_client, identity_provider, sso_user):
    token = identity_provider.access_token(SUBJECT, key=identity_provider.ec_key)

    assert answer(api_client, token).status_code == 200


def test_an_audience_list_that_holds_ours_is_accepted(api_client, identity_provider, sso_user):
    token = identity_provider.access_token(SUBJECT, aud=["another-api", "marketing-op-api"])

    assert answer(api_client, token).status_code == 200


def test_our_own_tokens_keep_working_beside_the_providers(api_client, identity_provider, auth):
    assert api_client.get(DATA_URL, **auth).status_code == 200


def test_the_signing_keys_are_fetched_once_and_kept_in_the_cache(
    api_client, identity_provider, sso_user
):
    for _ in range(3):
        assert answer(api_client, identity_provider.access_token(SUBJECT)).status_code == 200

    assert identity_provider.key_set_fetches == 1


def test_a_rotated_key_is_fetched_when_a_token_names_it(api_client, identity_provider, sso_user):
    assert answer(api_client, identity_provider.access_token(SUBJECT)).status_code == 200
    new_key = identity_provider.rotate()

    response = answer(api_client, identity_provider.access_token(SUBJECT, key=new_key))

    assert response.status_code == 200, response.content
    assert identity_provider.key_set_fetches == 2


# --- the signature and the algorithm --------------------------------------------------------


def test_a_token_signed_by_another_key_with_a_published_key_id_is_refused(
    api_client, identity_provider, sso_user
):
    impostor = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})

    detail = refused(answer(api_client, identity_provider.access_token(SUBJECT, key=impostor)))

    assert detail == "The token's signature is not valid."


def test_a_token_whose_claims_were_changed_after_signing_is_refused(
    api_client, identity_provider, sso_user
):
    header, _, signature = identity_provider.access_token(SUBJECT).split(".")
    claims = identity_provider.claims(SUBJECT, scope="read write")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    assert "signature" in refused(answer(api_client, f"{header}.{payload}.{signature}"))


@pytest.mark.parametrize("algorithm", ["none", "None", "NONE"])
def test_an_unsigned_token_is_refused(api_client, identity_provider, sso_user, algorithm):
    token = unsigned({"alg": algorithm, "kid": "rsa-1"}, identity_provider.claims(SUBJECT))

    assert "algorithm" in refused(answer(api_client, token))


def test_hmac_with_the_public_key_as_secret_is_refused(api_client, identity_provider, sso_user):
    """The attack on libraries that verify HS256 with whatever key they hold."""
    public_pem = identity_provider.rsa_key.as_pem(private=False)
    signing_input = unsigned(
        {"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}, identity_provider.claims(SUBJECT)
    ).rstrip(".")
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    assert "algorithm 'HS256' is not accepted" in refused(answer(api_client, token))


def test_an_algorithm_other_than_the_keys_is_refused(api_client, identity_provider, sso_user):
    """The published RSA key says RS256; a token of the same key with RS512 is refused."""
    private = identity_provider.rsa_key.as_dict(private=True)
    same_key_any_algorithm = RSAKey.import_key({**private, "alg": "RS512"})
    token = identity_provider.access_token(
        SUBJECT, key=same_key_any_algorithm, header={"alg": "RS512"}
    )

    assert refused(answer(api_client, token)) == (
        "The token's algorithm RS512 is not the one of its key."
    )


def test_an_unknown_key_id_is_refused_and_fetches_the_keys_at_most_once_a_minute(
    api_client, identity_provider, sso_user
):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "never-published"})
    assert answer(api_client, identity_provider.access_token(SUBJECT)).status_code == 200

    answers = [
        answer(api_client, identity_provider.access_token(SUBJECT, key=stranger, jti=str(n)))
        for n in range(5)
    ]

    assert [response.status_code for response in answers] == [401] * 5
    assert "does not publish" in answers[0].json()["detail"]
    assert identity_provider.key_set_fetches == 2


@pytest.mark.parametrize("token", ["a.b.c", "e30.e30.", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln"])
def test_a_malformed_jwt_is_refused_not_an_error(api_client, identity_provider, sso_user, token):
    refused(answer(api_client, token))


# --- the claims -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "https://another-provider.example"}, "another issuer"),
        ({"aud": "another-api"}, "another audience"),
        ({"aud": None}, "lacks the claim(s) aud"),
        ({"exp": -60}, "The token has expired."),
        ({"exp": None}, "lacks the claim(s) exp"),
        ({"nbf": +120}, "not valid yet"),
        ({"sub": None}, "lacks the claim(s) sub"),
        ({"scope": "openid profile"}, "grants none of this service's scopes"),
    ],
)
def test_a_token_that_breaks_a_claim_rule_is_refused(
    api_client, identity_provider, sso_user, claims, message
):
    """``exp`` and ``nbf`` are given in seconds from when the test runs (a time taken when
    the tests were collected is past the leeway by the time a long run reaches it)."""
    now = int(time.time())
    claims = {
        name: now + value if name in {"exp", "nbf"} and value is not None else value
        for name, value in claims.items()
    }
    token = identity_provider.access_token(SUBJECT, **claims)

    assert message in refused(answer(api_client, token))


def test_an_id_token_sent_as_an_access_token_is_refused(
    api_client, identity_provider, sso_user, settings
):
    """Where the audience is the client id, the dashboard's ID token has the right aud; it
    grants no scope, so it opens nothing."""
    settings.OIDC_AUDIENCE = "marketing-op"
    id_token = identity_provider.access_token(
        SUBJECT, aud="marketing-op", scope=None, jti=None, nonce="n-0S6_WzA2Mj"
    )

    assert "grants none" in refused(answer(api_client, id_token))


def test_expiry_and_not_before_allow_a_small_clock_skew(api_client, identity_provider, sso_user):
    now = int(time.time())
    just_expired = identity_provider.access_token(SUBJECT, exp=now - 10)
    almost_valid = identity_provider.access_token(SUBJECT, nbf=now + 10)

    assert answer(api_client, just_expired).status_code == 200
    assert answer(api_client, almost_valid).status_code == 200


def test_a_subject_that_no_user_holds_is_refused(api_client, identity_provider, sso_user):
    token = identity_provider.access_token("somebody-else")

    assert refused(answer(api_client, token)) == (
        "No user of this service has the token's subject (sub)."
    )


@pytest.mark.parametrize("subject", ["", "nul\x00inside", "x" * 300])
def test_a_subject_no_user_can_hold_is_refused_not_an_error(
    api_client, identity_provider, sso_user, subject
):
    refused(answer(api_client, identity_provider.access_token(subject)))


def test_a_deactivated_users_token_is_refused(api_client, identity_provider, sso_user):
    sso_user.is_active = False
    sso_user.save()

    refused(answer(api_client, identity_provider.access_token(SUBJECT)))


def test_an_organisation_claim_naming_another_organisation_is_refused(
    api_client, identity_provider, sso_user, settings
):
    settings.OIDC_ORGANIZATION_CLAIM = "organization"

    ours = identity_provider.access_token(SUBJECT, organization="acme")
    theirs = identity_provider.access_token(SUBJECT, organization="globex")
    missing = identity_provider.access_token(SUBJECT)

    assert answer(api_client, ours).status_code == 200
    assert "another organisation" in refused(answer(api_client, theirs))
    assert "missing" in refused(answer(api_client, missing))


# --- scopes -----------------------------------------------------------------------------------


def test_a_read_scope_reads_but_cannot_import(api_client, identity_provider, sso_user):
    token = identity_provider.access_token(SUBJECT, scope="openid read")

    response = api_client.post(
        DATA_URL, b"x", content_type="text/csv", **bearer(token), HTTP_CONTENT_LENGTH="1"
    )

    assert refused(response, 403) == "This token lacks the 'write' scope."


def test_a_write_scope_imports(api_client, identity_provider, sso_user):
    token = identity_provider.access_token(SUBJECT, scope=None, scp=["write"])
    body = (
        b"product,campaign_type,campaign,channel,date,conversions\n"
        b"cola,performance,x,tv,2021-01-04,1\n"
    )

    response = api_client.post(DATA_URL, body, content_type="text/csv", **bearer(token))

    assert response.status_code == 200, response.content
    assert response.json()["data"]["inserted"] == 1


@pytest.mark.parametrize("scp", ["Measurements.Read", ["Measurements.Read"]])
def test_scope_names_are_configurable_and_scp_is_read_too(
    api_client, identity_provider, sso_user, settings, scp
):
    settings.OIDC_READ_SCOPES = frozenset({"Measurements.Read"})
    named = identity_provider.access_token(SUBJECT, scope=None, scp=scp)
    default_name = identity_provider.access_token(SUBJECT, scope="read")

    assert answer(api_client, named).status_code == 200
    assert "grants none" in refused(answer(api_client, default_name))


# --- the provider -----------------------------------------------------------------------------


def test_a_provider_that_does_not_answer_gives_503_not_an_error(
    api_client, identity_provider, sso_user
):
    identity_provider.down = True

    response = answer(api_client, identity_provider.access_token(SUBJECT))

    assert response.status_code == 503, response.content
    assert "identity provider cannot be reached" in response.json()["detail"]


def test_a_provider_on_a_closed_port_gives_503(api_client, identity_provider, sso_user, settings):
    token = identity_provider.access_token(SUBJECT)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.OIDC_ISSUER = f"http://127.0.0.1:{closed}"

    assert answer(api_client, token).status_code == 503


def test_keys_fetched_before_an_outage_keep_working(api_client, identity_provider, sso_user):
    assert answer(api_client, identity_provider.access_token(SUBJECT)).status_code == 200
    identity_provider.down = True
    new_key = identity_provider.rotate()

    known = answer(api_client, identity_provider.access_token(SUBJECT))
    unknown = answer(api_client, identity_provider.access_token(SUBJECT, key=new_key))

    assert known.status_code == 200
    assert unknown.status_code == 503


def test_a_cache_that_does_not_answer_costs_no_fetch_per_request(
    api_client, identity_provider, sso_user, unreachable_cache
):
    answers = [answer(api_client, identity_provider.access_token(SUBJECT)) for _ in range(3)]

    assert [response.status_code for response in answers] == [200] * 3
    assert identity_provider.key_set_fetches == 1


def test_a_key_another_worker_fetched_is_found_without_a_fetch(
    api_client, identity_provider, sso_user
):
    assert answer(api_client, identity_provider.access_token(SUBJECT)).status_code == 200
    new_key = identity_provider.rotate()
    assert (
        answer(api_client, identity_provider.access_token(SUBJECT, key=new_key)).status_code == 200
    )
    forget_provider_state()  # this worker now stands for another one, with an old copy
    with discovery._lock:
        discovery._worker_copies[discovery._cache_key("jwks")] = {
            "document": {"keys": identity_provider.public_keys()[:2]},
            "fetched_at": time.time(),
        }

    response = answer(api_client, identity_provider.access_token(SUBJECT, key=new_key))

    assert response.status_code == 200
    assert identity_provider.key_set_fetches == 2


def test_without_an_issuer_a_provider_token_is_just_an_unknown_token(
    api_client, identity_provider, sso_user, settings
):
    settings.OIDC_ISSUER = ""

    refused(answer(api_client, identity_provider.access_token(SUBJECT)))
    assert identity_provider.key_set_fetches == 0


def test_a_provider_token_cannot_be_revoked_here(api_client, identity_provider, sso_user):
    response = api_client.delete(
        "/api/auth/token/", **bearer(identity_provider.access_token(SUBJECT))
    )

    refused(response)
