"""The fair-share accept rule of podproxy's gunicorn worker."""
from podproxy.worker import STALE, ConnectionTable, may_accept


def test_the_least_loaded_worker_always_accepts():
    assert may_accept(0, None) and may_accept(50, None)  # alone
    assert may_accept(3, 3) and may_accept(4, 3)  # within the margin
    assert not may_accept(5, 3)
    assert may_accept(2, 9)


def test_table_sees_only_other_live_workers():
    table = ConnectionTable(slots=8)
    now = 1000.0
    assert table.fewest_elsewhere(0, now) is None
    table.publish(0, 7, now)
    table.publish(1, 4, now)
    table.publish(2, 2, now - STALE - 1)  # stuck or killed: ignored
    assert table.fewest_elsewhere(0, now) == 4
    assert table.fewest_elsewhere(1, now) == 7
    table.clear(1)
    assert table.fewest_elsewhere(0, now) is None


def test_slots_follow_the_workers_age():
    table = ConnectionTable(slots=8)
    assert [table.slot(age) for age in (1, 2, 9)] == [1, 2, 1]
