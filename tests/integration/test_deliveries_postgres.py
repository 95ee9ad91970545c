"""The deliveries' SQL on PostgreSQL: the tests of tests/unit/test_deliveries.py run again
with the store on a PostgreSQL server, where claims race under real concurrency, the
insert that opens deliveries may meet another's, and ids are handed out at insert."""

from __future__ import annotations

import pytest

from jet.config import Settings
from tests.peers.postgres import postgres, postgres_url  # noqa: F401 (fixtures)
from tests.unit.test_deliveries import (  # noqa: F401 (collected here again, on PostgreSQL)
    test_a_batch_is_flushed_before_it_counts_and_redone_if_that_fails,
    test_a_claimed_delivery_waits_for_its_claim_to_run_out,
    test_a_crash_mid_batch_repeats_that_batch_and_no_more,
    test_a_day_past_its_due_time_one_failure_is_dead,
    test_a_stop_ends_a_batch_and_frees_the_rest_for_the_next,
    test_a_subscriber_may_say_later_without_using_an_attempt,
    test_an_account_s_events_go_in_the_order_they_took_effect,
    test_an_account_waits_for_its_earlier_event_others_do_not,
    test_an_event_due_later_waits_and_holds_nothing_up,
    test_deliveries_are_opened_once_for_every_event_even_a_late_commit,
    test_each_event_reaches_each_subscriber_once,
    test_failures_back_off_keep_progress_then_die_and_can_be_retried,
    test_listing_by_status,
    test_two_dispatchers_never_deliver_one_delivery_together,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings, postgres_url: str, monkeypatch) -> Settings:  # noqa: F811
    monkeypatch.setenv("JET_DATABASE_URL", postgres_url)
    on_postgres = Settings()
    assert on_postgres.db_url.startswith("postgresql")
    return on_postgres
