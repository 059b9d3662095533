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


def test_a_worker_keeps_copies_up_to_its_bytes_and_drops_the_least_used(settings):
    from django.core.cache import cache

    from marketing_op.core import caching

    settings.WORKER_CACHE_BYTES = 9_600  # nine values of 1,000 characters fit, ten do not
    caching.forget_worker_copies()
    keys = [f"k{number}" for number in range(10)]
    for key in keys[:9]:
        caching.once_per_data_version(key, lambda key=key: key[1] * 1_000, 60)
    caching.once_per_data_version("k0", lambda: "not again", 60)  # "k0" is used again
    caching.once_per_data_version("k9", lambda: "9" * 1_000, 60)  # "k1" goes
    cache.delete_many(keys)

    assert caching.once_per_data_version("k0", lambda: "recomputed", 60) == "0" * 1_000
    assert caching.once_per_data_version("k9", lambda: "recomputed", 60) == "9" * 1_000
    assert caching.once_per_data_version("k1", lambda: "recomputed", 60) == "recomputed"


def test_a_value_larger_than_an_eighth_of_the_bound_is_not_copied(settings):
    from django.core.cache import cache

    from marketing_op.core import caching

    settings.WORKER_CACHE_BYTES = 8_000
    caching.forget_worker_copies()
    caching.once_per_data_version("small", lambda: "s" * 500, 60)
    caching.once_per_data_version("large", lambda: "l" * 1_500, 60)
    cache.delete_many(["small", "large"])

    assert caching.once_per_data_version("small", lambda: "recomputed", 60) == "s" * 500
    assert caching.once_per_data_version("large", lambda: "recomputed", 60) == "recomputed"


def worker_cache_bytes() -> tuple[float, float]:
    """What /metrics says: the bytes of the worker's copies, and its answers from them."""
    from django.test import Client
    from prometheus_client.parser import text_string_to_metric_families

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(Client().get("/metrics").content.decode())
        for sample in family.samples
    }
    return (
        samples[("marketing_op_worker_cache_bytes", ())],
        samples.get(("marketing_op_answer_cache_lookups_total", (("result", "hit_worker"),)), 0),
    )


def test_a_workers_copies_of_answers_stay_within_worker_cache_bytes(
    api_client, auth, organization, settings
):
    """Many large answers (report pages) over one connection: the worker keeps copies of
    the latest up to WORKER_CACHE_BYTES, as /metrics reports, and answers a repeated
    question from them."""
    from marketing_op.core.caching import forget_worker_copies

    settings.METRICS_TOKEN = ""
    settings.WORKER_CACHE_BYTES = bound = 160_000  # a copy of at most 20,000 bytes
    forget_worker_copies()
    for day in range(60):
        for channel in ("tv", "radio", "ooh", "print", "search"):
            measurement(
                organization,
                channel=channel,
                date=datetime.date(2021, 1, 1) + datetime.timedelta(days=day),
                conversions=float(day),
                spend=day,
            )
    pages = [
        f"/api/marketing/reports/?dimensions=channel&granularity=day&page_size=100&offset={offset}"
        f"&metrics=conversions,spend,roas,cpa,measurements&start_date=2021-01-0{start}"
        for start in range(1, 10)
        for offset in (0, 100, 200)
    ]

    sent, seen = 0, []
    for url in pages:
        response = api_client.get(url, **auth)
        assert response.status_code == 200, response.content
        sent += len(response.content)
        seen.append(worker_cache_bytes()[0])
    _, hits_before = worker_cache_bytes()
    again = api_client.get(pages[-1], **auth)
    kept, hits_after = worker_cache_bytes()

    assert sent > 2 * bound  # the answers would not fit
    assert max(seen) <= bound
    assert kept >= len(again.content)  # the last answer is kept, measured in bytes
    assert hits_after == hits_before + 1


def test_a_large_report_lives_in_the_shared_cache_for_minutes_not_a_day(
    api_client, auth, organization, monkeypatch
):
    """A long report asked for one row at a time is stored whole, in chunks: above
    LARGE_ENTRY_BYTES (made small here) the chunks and the answer live minutes, not 24 h."""
    from django.core.cache import cache

    from marketing_op.core import caching

    if not hasattr(cache, "ttl"):
        pytest.skip("needs the shared cache on Redis, which tells an entry's time to live")
    monkeypatch.setattr(caching, "LARGE_ENTRY_BYTES", 5_000)
    for day in range(100):
        measurement(
            organization, date=datetime.date(2021, 1, 1) + datetime.timedelta(days=day), spend=1
        )
    short = "/api/marketing/reports/?granularity=month&metrics=spend&page_size=1"
    long = "/api/marketing/reports/?granularity=day&metrics=spend&page_size=1"

    assert api_client.get(short, **auth).status_code == 200
    small_lives = {key: cache.ttl(key) for key in cache.keys("report:*")}
    assert api_client.get(long, **auth).status_code == 200
    lives = {key: cache.ttl(key) for key in cache.keys("*") if key not in small_lives}

    assert small_lives
    assert min(small_lives.values()) > caching.LARGE_ENTRY_SECONDS
    report_lives = [life for key, life in lives.items() if key.startswith("report:")]
    assert len(report_lives) > 1  # the head and its chunks
    assert max(report_lives) <= caching.LARGE_ENTRY_SECONDS


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
