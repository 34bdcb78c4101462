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


class FakePoller:
    """The selector of a worker's main loop: what is registered, and the
    timeout of each wait (nothing ever arrives)."""

    def __init__(self):
        self.registered, self.timeouts = set(), []

    def register(self, fileobj, events, data=None):
        self.registered.add(fileobj)

    def unregister(self, fileobj):
        self.registered.remove(fileobj)

    def select(self, timeout=None):
        self.timeouts.append(timeout)
        return []


class FakeListener:
    def setblocking(self, flag):
        pass


def loop_turn(worker, connections):
    """One turn of gunicorn's gthread loop in ``worker`` holding ``connections``."""
    worker.nr_conns = connections
    worker.wait_for_and_dispatch_events(timeout=1.0)  # gunicorn's poll timeout
    return worker.poller.timeouts[-1]


def balanced_worker(slot):
    from podproxy.worker import BalancedThreadWorker

    worker = object.__new__(BalancedThreadWorker)  # no gunicorn arbiter: only the accept logic
    worker.alive, worker.slot, worker.nr_conns, worker.worker_connections = True, slot, 0, 1000
    worker.sockets, worker.poller, worker._accepting = [FakeListener()], FakePoller(), False
    return worker


def test_two_workers_never_both_stop_accepting(monkeypatch):
    """The stall of issue 14: worker A stops (10 connections, B had
    published 7); B then reaches 12 and, judging on A's 10, stopped too.
    Nothing woke A (its connections were in threads), so a new connection
    waited for gunicorn's 1 s poll timeout. B must go on accepting while A
    does not, and A must look again soon, not after the poll timeout."""
    from podproxy import worker as module

    monkeypatch.setattr(module, "TABLE", module.ConnectionTable(slots=8))
    a, b = balanced_worker(1), balanced_worker(2)
    loop_turn(a, 6)
    loop_turn(b, 7)
    assert a._accepting and b._accepting
    a_wait = loop_turn(a, 10)  # over its share while B accepts: stops
    assert not a._accepting and a.sockets[0] not in a.poller.registered
    loop_turn(b, 12)  # over its share too, but A does not accept
    assert b._accepting and b.sockets[0] in b.poller.registered
    assert a_wait <= 0.05  # a stopped worker does not sleep a whole poll interval
    loop_turn(a, 10)  # A looks again: now under its share, accepts
    assert a._accepting
    loop_turn(b, 12)  # and B may stop
    assert not b._accepting


def test_a_worker_does_not_stop_while_another_process_decides():
    """The stop is decided under a lock across processes (POSIX record lock
    on the table's file), released when its holder dies."""
    import subprocess
    import sys

    from podproxy.worker import ConnectionTable

    table = ConnectionTable(slots=8)
    fd = table._file.fileno()
    holder = subprocess.Popen(
        [sys.executable, "-c", (f"import fcntl, sys; fcntl.lockf({fd}, fcntl.LOCK_EX); print('held', flush=True); "
                                "sys.stdin.read()")],
        pass_fds=(fd,), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with table.decision() as held:
            assert not held
    finally:
        holder.kill()
        holder.wait(timeout=10)
    with table.decision() as held:
        assert held


def test_table_knows_which_live_workers_accept():
    from podproxy.worker import ConnectionTable

    table = ConnectionTable(slots=8)
    now = 1000.0
    table.publish(0, 5, now, accepting=True)
    assert not table.another_accepts(0, now)  # itself does not count
    table.publish(1, 3, now, accepting=False)
    assert not table.another_accepts(0, now)
    table.publish(2, 1, now - STALE - 1, accepting=True)  # stuck or killed
    assert not table.another_accepts(0, now)
    table.publish(1, 3, now, accepting=True)
    assert table.another_accepts(0, now) and table.fewest_elsewhere(0, now) == 3
