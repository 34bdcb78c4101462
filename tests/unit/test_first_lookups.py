"""Concurrent first list requests run one ``podman info``, not one each
(issue 14: 25 at once on a loaded machine stalled the list route for 10+ s)."""
import threading
import time
from types import SimpleNamespace

from podproxy.engine.images import ImageEngine


class SlowRunner:
    def __init__(self):
        self.calls = 0

    def run(self, args, ok=(0,)):
        self.calls += 1
        time.sleep(0.2)  # podman info: long enough for the others to arrive
        return SimpleNamespace(text="/nonexistent/root\noverlay\n")


def test_concurrent_first_lists_run_one_podman_info():
    runner = SlowRunner()
    engine = ImageEngine(runner)
    threads = [threading.Thread(target=engine.storage_order) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert runner.calls == 1
    assert engine.storage_order() == [] and runner.calls == 1


def test_concurrent_first_cached_reads_run_one_podman_info():
    from podproxy.engine.cache import AnswerCache

    calls = []

    def info():
        calls.append(1)
        time.sleep(0.2)
        return {"host": {"serviceIsRemote": True}}  # the cache stands aside: storage() is None

    cache = AnswerCache(runner=None, info=info)
    threads = [threading.Thread(target=cache.storage) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(calls) == 1 and cache.storage() is None
