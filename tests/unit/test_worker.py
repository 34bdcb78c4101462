"""The fair-share accept rule of podproxy's gunicorn worker."""
from podproxy.serving.fairshare import STALE, ConnectionTable, may_accept


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

    from podproxy.serving.heads import readable

    server, client = socket.socketpair()
    try:
        conn = SimpleNamespace(sock=server, parser=SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO())))
        start = time.monotonic()
        assert not readable(conn, 0.05)  # nothing sent: back to the poller after the linger
        assert time.monotonic() - start >= 0.04
        conn.parser.unreader.buf.write(b"GET / HTTP/1.1\r\n")  # pipelined, already read by gunicorn
        assert readable(conn, 0)
        conn.parser.unreader.buf = io.BytesIO()
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert readable(conn, 0.05)
    finally:
        server.close()
        client.close()


def test_a_head_is_whole_only_with_its_empty_line():
    from podproxy.serving.heads import head_end

    assert head_end(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert head_end(b"GET / HTTP/1.1\r\n\r\nbody")
    assert not head_end(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert not head_end(b"")
    assert not head_end(b"GET / HTTP/1.1\nHost: x\n\n")  # the parser would wait for its CRLF end
    assert not head_end(b"\r\n\r\nGET / HTTP/1.1\r\n")
    assert head_end(b"\r\nGET / HTTP/1.1\r\n\r\n")


def test_a_head_over_the_limit_is_414_for_its_line_else_431():
    from podproxy.serving.heads import head_too_large

    assert head_too_large(b"GET /" + b"a" * 9000, 8190)[0] == 414
    assert head_too_large(b"GET / HTTP/1.1\r\nX: " + b"v" * 9000, 8190)[0] == 431


def test_gunicorn_html_errors_become_podman_error_bodies():
    import json

    from podproxy.serving.heads import html_error_as_json

    html = (b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: text/html\r\n"
            b"Content-Length: 10\r\n\r\n<html><body><h1><p>Request Header Fields Too Large</p></h1>\n"
            b"Error parsing headers: &#x27;limit request headers fields&#x27;\n</body></html>")
    head, _, body = html_error_as_json(html).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ") and b"Content-Type: application/json" in head
    assert b"Content-Length: %d" % len(body) in head
    assert json.loads(body) == {"cause": "Error parsing headers: 'limit request headers fields'",
                                "message": "Error parsing headers: 'limit request headers fields'",
                                "response": 431}
    assert html_error_as_json(b"HTTP/1.1 200 OK\r\n\r\n") == b"HTTP/1.1 200 OK\r\n\r\n"
