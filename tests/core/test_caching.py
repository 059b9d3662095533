import datetime

import pytest

from marketing_op.accounts.services import organization_data_changed
from tests.factories import measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

URLS = [
    "/api/marketing/measurements/?channels=tv",
    "/api/marketing/stats/channel-sales-percentages/",
    "/api/marketing/stats/channel-weekly-sales/",
    "/api/marketing/dimensions/",
]


@pytest.mark.parametrize("url", URLS)
def test_a_current_etag_gets_304_and_a_new_data_version_a_fresh_answer(
    api_client, auth, organization, url
):
    measurement(organization, channel="tv", conversions=5.0)
    first = api_client.get(url, **auth)
    etag = first["ETag"]

    again = api_client.get(url, HTTP_IF_NONE_MATCH=etag, **auth)
    organization_data_changed(organization_id=organization.pk)
    after_import = api_client.get(url, HTTP_IF_NONE_MATCH=etag, **auth)

    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert after_import.status_code == 200
    assert after_import["ETag"] != etag


def test_etags_differ_between_queries_and_organisations(api_client, auth, other_organization):
    from marketing_op.accounts.services import token_issue
    from tests.factories import UserFactory

    outsider_token = token_issue(user=UserFactory(organization=other_organization)).token
    outsider = {"HTTP_AUTHORIZATION": f"Bearer {outsider_token}"}

    tv = api_client.get(URLS[0], **auth)["ETag"]
    radio = api_client.get(URLS[0].replace("tv", "radio"), **auth)["ETag"]
    other = api_client.get(URLS[0], **outsider)["ETag"]

    assert len({tv, radio, other}) == 3


def test_an_import_that_changes_data_changes_the_etag_and_one_that_does_not_keeps_it(
    api_client, auth, organization
):
    import datetime

    from marketing_op.measurements.imports import MeasurementRow, measurement_import, typed_records

    rows = [MeasurementRow("cola", "branding", "spring", "tv", datetime.date(2021, 3, 1), 5.0)]

    def etag():
        return api_client.get(URLS[1], **auth)["ETag"]

    before = etag()
    measurement_import(organization=organization, records=typed_records(rows))
    after_change = etag()
    measurement_import(organization=organization, records=typed_records(rows))

    assert after_change != before
    assert etag() == after_change


def test_cached_totals_follow_every_import(api_client, auth, organization):
    import datetime

    from marketing_op.measurements.imports import MeasurementRow, measurement_import, typed_records

    def row(day, conversions):
        return MeasurementRow(
            "cola", "branding", "spring", "tv", datetime.date(2021, 3, day), conversions
        )

    def totals():
        measurements = api_client.get("/api/marketing/measurements/", **auth).json()
        shares = api_client.get(URLS[1] + "?channels=radio", **auth).json()
        return measurements["meta"]["total"], shares["data"]

    measurement_import(organization=organization, records=typed_records([row(1, 5.0)]))
    first = totals()
    measurement_import(
        organization=organization,
        records=typed_records(
            [
                row(2, 5.0),
                MeasurementRow(
                    "cola", "branding", "spring", "radio", datetime.date(2021, 3, 2), 10.0
                ),
            ]
        ),
    )

    assert first == (1, [])
    assert totals() == (3, [{"channel": "radio", "percentage": "50.00"}])


@pytest.mark.parametrize("url", URLS)
def test_an_answer_is_served_from_the_cache_until_the_data_version_changes(
    api_client, auth, organization, url
):
    from marketing_op.measurements.models import DailyConversions, Measurement, WeeklyConversions

    measurement(organization, channel="tv", conversions=5.0)
    first = api_client.get(url, **auth)
    # Rows changed behind the service's back (no new data version): the cached answer stays.
    for model in (Measurement, DailyConversions, WeeklyConversions):
        model.objects.filter(organization=organization).delete()
    cached = api_client.get(url, **auth)
    organization_data_changed(organization_id=organization.pk)
    fresh = api_client.get(url, **auth)

    assert first.status_code == cached.status_code == fresh.status_code == 200
    assert cached.content == first.content
    assert cached["Content-Type"] == first["Content-Type"] == "application/json; charset=utf-8"
    assert cached["Cache-Control"] == "private, no-cache"
    assert cached["ETag"] == first["ETag"]
    assert fresh.content != first.content
    assert fresh["ETag"] != first["ETag"]


def test_a_cached_page_keeps_its_link_header(api_client, auth, organization):
    for day in range(1, 4):
        measurement(organization, date=datetime.date(2021, 3, day))
    url = "/api/marketing/measurements/?page_size=1&offset=1"

    first = api_client.get(url, **auth)
    cached = api_client.get(url, **auth)

    assert 'rel="next"' in first["Link"]
    assert cached["Link"] == first["Link"]


def test_the_answer_cache_can_be_switched_off(api_client, auth, organization, settings):
    from marketing_op.measurements.models import Measurement

    settings.ANSWER_CACHE_SECONDS = 0
    measurement(organization, conversions=5.0)
    url = "/api/marketing/measurements/"
    first = api_client.get(url, **auth)
    Measurement.objects.filter(organization=organization).update(conversions=6.0)

    assert first.json()["data"][0]["conversions"] == 5.0
    assert api_client.get(url, **auth).json()["data"][0]["conversions"] == 6.0


def test_organisations_never_share_a_cached_answer(api_client, auth, organization):
    from marketing_op.accounts.services import token_issue
    from tests.factories import OrganizationFactory, UserFactory

    other = OrganizationFactory(name="globex")
    other_auth = {
        "HTTP_AUTHORIZATION": "Bearer "
        + token_issue(user=UserFactory(organization=other), scopes="read").token
    }
    measurement(organization, channel="tv", conversions=5.0)
    measurement(other, channel="radio", conversions=7.0)
    url = "/api/marketing/stats/channel-sales-percentages/"

    ours = api_client.get(url, **auth).json()["data"]
    theirs = api_client.get(url, **other_auth).json()["data"]

    assert ours == [{"channel": "tv", "percentage": "100.00"}]
    assert theirs == [{"channel": "radio", "percentage": "100.00"}]


def test_cache_keys_differ_between_databases_organisations_data_versions_and_releases(
    organization, other_organization, monkeypatch
):
    from django.conf import settings as django_settings

    from marketing_op.core import caching
    from marketing_op.core.caching import data_cache_key

    key = data_cache_key(organization, "answer", "/api/marketing/measurements/")
    other = data_cache_key(other_organization, "answer", "/api/marketing/measurements/")
    organization_data_changed(organization_id=organization.pk)
    organization.refresh_from_db()
    after_import = data_cache_key(organization, "answer", "/api/marketing/measurements/")
    monkeypatch.setitem(django_settings.DATABASES["default"], "NAME", "a_copy_elsewhere")
    elsewhere = data_cache_key(organization, "answer", "/api/marketing/measurements/")
    # A release that shapes its cached values otherwise shares the cache during a rolling
    # deploy: it must never read this release's entries, nor this one its.
    monkeypatch.setattr(caching, "code_tag", lambda: "another-release")
    other_release = data_cache_key(organization, "answer", "/api/marketing/measurements/")

    assert len({key, other, after_import, elsewhere, other_release}) == 5


def test_a_worker_answers_a_repeated_question_from_its_own_copy(
    api_client, auth, organization, settings
):
    """Its copy of the answer: the same answer with the shared cache emptied, or
    unreachable, and the rows gone behind the service's back (no new data version)."""
    from django.core.cache import cache

    from marketing_op.measurements.models import DailyConversions, Measurement, WeeklyConversions

    measurement(organization, channel="tv", conversions=5.0)
    first = api_client.get(URLS[0], **auth)
    for model in (Measurement, DailyConversions, WeeklyConversions):
        model.objects.filter(organization=organization).delete()
    cache.clear() if not hasattr(cache, "delete_pattern") else cache.delete_pattern("*")

    again = api_client.get(URLS[0], **auth)

    assert [row["conversions"] for row in first.json()["data"]] == [5.0]
    assert again.content == first.content


def test_a_value_computed_per_data_version_is_kept_by_the_worker_for_a_while(monkeypatch):
    """The worker's copy saves the shared cache's round trip; past WORKER_COPY_SECONDS the
    worker asks the shared cache again, and computes only what that has lost."""
    from django.core.cache import cache

    from marketing_op.core import caching

    clock = [1000.0]
    monkeypatch.setattr(caching.time, "monotonic", lambda: clock[0])
    computed = []

    def compute():
        computed.append(1)
        return [len(computed)]

    assert caching.once_per_data_version("k:1", compute, 60) == [1]
    cache.delete("k:1")
    assert caching.once_per_data_version("k:1", compute, 60) == [1]  # the worker's copy
    clock[0] += caching.WORKER_COPY_SECONDS + 1
    assert caching.once_per_data_version("k:1", compute, 60) == [2]  # the shared cache lost it
    cache.set("k:1", ["shared"])
    clock[0] += caching.WORKER_COPY_SECONDS + 1
    assert caching.once_per_data_version("k:1", compute, 60) == ["shared"]
    assert computed == [1, 1]


def test_a_worker_keeps_a_bounded_number_of_copies_and_drops_the_least_used(monkeypatch):
    from django.core.cache import cache

    from marketing_op.core import caching

    monkeypatch.setattr(caching, "_worker_copies", caching._worker_copies_new(maxsize=2))
    for key in ("a", "b"):
        caching.once_per_data_version(key, lambda key=key: key, 60)
    caching.once_per_data_version("a", lambda: "not again", 60)  # "a" is used again
    caching.once_per_data_version("c", lambda: "c", 60)  # "b" goes
    cache.delete_many(["a", "b", "c"])

    assert caching.once_per_data_version("a", lambda: "recomputed", 60) == "a"
    assert caching.once_per_data_version("c", lambda: "recomputed", 60) == "c"
    assert caching.once_per_data_version("b", lambda: "recomputed", 60) == "recomputed"


def test_unknown_query_parameters_share_the_cached_answer_of_the_same_question(
    api_client, auth, organization
):
    """The answer cache is keyed by the validated parameters, so ``?junk=N`` cannot fill it
    with a new entry per URL: every such URL gets the one cached answer."""
    from marketing_op.measurements.models import DailyConversions, Measurement, WeeklyConversions

    measurement(organization, channel="tv", conversions=5.0)
    url = "/api/marketing/measurements/?channels=tv"
    first = api_client.get(url, **auth)
    # Rows changed behind the service's back (no new data version): only a cached answer
    # still shows them.
    for model in (Measurement, DailyConversions, WeeklyConversions):
        model.objects.filter(organization=organization).delete()
    junk = [api_client.get(f"{url}&junk={number}", **auth) for number in range(3)]
    reordered = api_client.get(url + "&page_size=10&offset=0", **auth)

    assert [row["conversions"] for row in first.json()["data"]] == [5.0]
    assert [answer.content for answer in junk] == [first.content] * 3
    assert reordered.content == first.content


def test_different_valid_parameters_get_different_answers(api_client, auth, organization):
    measurement(organization, channel="tv", conversions=5.0)
    measurement(organization, channel="radio", conversions=15.0)
    url = "/api/marketing/stats/channel-sales-percentages/"

    tv = api_client.get(url + "?channels=tv", **auth).json()["data"]
    radio = api_client.get(url + "?channels=radio", **auth).json()["data"]
    second_page = api_client.get(url + "?page_size=1&offset=1", **auth).json()["data"]

    assert tv == [{"channel": "tv", "percentage": "25.00"}]
    assert radio == [{"channel": "radio", "percentage": "75.00"}]
    assert second_page == [{"channel": "tv", "percentage": "25.00"}]
