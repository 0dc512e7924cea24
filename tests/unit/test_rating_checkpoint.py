"""Rating from the last posting's checkpoint and the events after it gives exactly what the
reference fold of the whole history gives, over random lives (both conventions, both
billing frequencies, trials, renewals, backdated changes); and the checkpoint stays bounded
however old the subscription grows."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import rating
from tests import strategies as s
from tests.support import Driver, live, offer


@settings(max_examples=s.examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(life=s.lifetimes, day=st.integers(1, 28))
def test_the_checkpoint_and_the_tail_rate_as_the_whole_history(life: s.Lifetime, day: int) -> None:
    driver = live(life, day)
    checkpoint: rating.Checkpoint | None = None
    for billing_date, history, full in driver.ratings:
        if checkpoint is not None:
            tail = [ev for ev in history if ev.originator_version > checkpoint.rated_version]
            fast = rating.rate(tail, billing_date, checkpoint)
            assert fast.lines == full.lines, billing_date
            assert (fast.rated_version, fast.consumed_events, fast.cancelled) == \
                (full.rated_version, full.consumed_events, full.cancelled)
            assert fast.checkpoint == full.checkpoint
        if full.has_anything_to_post:
            checkpoint = full.checkpoint


def test_a_ten_year_monthly_subscription_keeps_a_checkpoint_of_a_year_at_most() -> None:
    driver = Driver(offer("4.00", billing="monthly", term="P1M", daily_rate_places=3),
                    date(2010, 1, 13), quantity=5)
    day = date(2010, 1, 13)
    for month in range(120):
        day = date(2010 + (month + 1) // 12, (month + 1) % 12 + 1, 20)
        driver.bill_through(day - timedelta(days=40), day - timedelta(days=1), 15)
        if month < 24:  # two active years, then eight quiet ones (only renewals and cycles)
            driver.do("change_quantity", day, 5 + month % 3 + 1 if month % 3 != 2 else 5)
    sizes = [len(result.checkpoint.lines) + len(result.checkpoint.terms)
             for _, _, result in driver.ratings if result.checkpoint is not None]
    assert max(sizes[-12:]) <= 2 * 14  # a year of monthly terms and their lines, not ten
    assert len(driver.history) > 250  # ten years of events, rated from a year of them
