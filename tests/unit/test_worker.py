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


def test_a_thread_lingers_only_for_a_request_that_is_there():
    import io
    import socket
    import time
    from types import SimpleNamespace

    from podproxy.worker import _readable

    server, client = socket.socketpair()
    try:
        conn = SimpleNamespace(sock=server, parser=SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO())))
        start = time.monotonic()
        assert not _readable(conn, 0.05)  # nothing sent: back to the poller after the linger
        assert time.monotonic() - start >= 0.04
        conn.parser.unreader.buf.write(b"GET / HTTP/1.1\r\n")  # pipelined, already read by gunicorn
        assert _readable(conn, 0)
        conn.parser.unreader.buf = io.BytesIO()
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert _readable(conn, 0.05)
    finally:
        server.close()
        client.close()
