"""A cache of podman's own answers to read commands, never stale.

podman keeps its images, layers and containers in containers/storage: one
JSON file per store (``images.json``, ``layers.json``, ``containers.json``,
each replaced by an atomic rename) guarded by a lock file. Every writer, in
any process, writes a fresh unique token (time, counter, pid, random bytes)
into the store's lock file while it holds the write lock: that is how
containers/storage itself notices that another process changed the store.

The fingerprint of the storage is the image and container stores' lock
file tokens plus the stat (inode, size, mtime_ns, ctime_ns) of those two
lock files, the three JSON files, the two volatile ones under runRoot and
libpod's database, BoltDB or SQLite: nine files (see ``LOCKED``). An
answer is kept only if the fingerprint read *before* podman started equals
the one read *after* it ended: then no write happened while podman read,
and the answer describes the state that fingerprint names. An answer is
served only if the fingerprint read *after the request arrived*
equals the one it was kept with: any change finished before the request
(by podproxy, the podman CLI or anything else using the store) changed a
token or a stat, so the request runs podman again. Tokens never repeat, so
"equal" really means "no write in between".

The cache stands aside (every read runs podman) when podman talks to a
remote service (``--url``/``--connection``: its files are not ours to
stat) or the store has additional image stores (read-only stores that
others change without our lock files).
"""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from .podman.runner import Completed, Runner
from .storefiles import store_file

log = logging.getLogger("podproxy.cache")

# graphRoot (``{d}`` = the driver name). ``storage.lock`` and ``layers.lock``
# are left out: every podman command, even a read, writes a new token into
# them (driver and mount bookkeeping), so they would make every answer
# uncacheable. A change of the layer store itself rewrites ``layers.json``
# (a rename: a new inode), and podman never changes layers without also
# writing the image or container store (pull/load/import/commit, rmi,
# container create/rm), whose tokens are read.
LOCKED = ("images", "containers")
INDEXES = ("images", "layers", "containers")
# libpod's database: BoltDB up to podman 4.x, SQLite (``db.sql``, a
# rollback journal: no -wal/-shm) the default from podman 5.0; whichever
# does not exist stats as None
DATABASES = ("libpod/bolt_state.db", "db.sql")
# runRoot: the volatile (not persisted) layers and containers
VOLATILE = ("layers", "containers")


class Storage:
    """Where podman's store is, and how to read its fingerprint."""

    def __init__(self, graph_root: str, run_root: str, driver: str):
        self.tokens = [store_file(graph_root, driver, kind, kind + ".lock") for kind in LOCKED]
        self.stats = (self.tokens + [store_file(graph_root, driver, kind) for kind in INDEXES]
                      + [os.path.join(graph_root, db) for db in DATABASES]
                      + [store_file(run_root, driver, kind, "volatile-%s.json" % kind) for kind in VOLATILE])

    @classmethod
    def from_info(cls, info: dict) -> Storage | None:
        """From ``podman info``; None when the cache must stand aside."""
        host, store = info.get("host") or {}, info.get("store") or {}
        if host.get("serviceIsRemote"):
            log.info("answer cache off: podman talks to a remote service")
            return None
        options = " ".join("%s=%s" % kv for kv in (store.get("graphOptions") or {}).items()).lower()
        if "imagestore" in options:
            log.info("answer cache off: the store has additional image stores")
            return None
        if not store.get("graphRoot") or not store.get("graphDriverName"):
            return None
        return cls(store["graphRoot"], store.get("runRoot") or "", store["graphDriverName"])

    def fingerprint(self) -> tuple:
        parts: list[object] = []
        for path in self.tokens:
            try:
                with open(path, "rb") as f:
                    parts.append(f.read(256))
            except OSError:
                parts.append(None)
        for path in self.stats:
            try:
                st = os.stat(path)
                parts.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
            except OSError:
                parts.append(None)
        return tuple(parts)


class AnswerCache:
    """``run(args, ok)`` like ``Runner.run``, answered from memory when the
    storage has not changed since podman gave that answer.

    At most ``size`` answers are kept (least recently used go first); a
    change of the storage drops them all. Concurrent misses of one command
    wait for the first one's podman instead of starting their own, and then
    still check the fingerprint they read after they arrived."""

    def __init__(self, runner: Runner, info: Callable[[], dict], size: int = 2048):
        self.runner = runner
        self._info = info
        self.size = size
        self._lock = threading.Lock()
        self._answers: OrderedDict[tuple, tuple] = OrderedDict()  # args -> (fingerprint, Completed)
        self._generation: tuple | None = None  # the fingerprint of every kept answer
        self._running: dict[tuple, threading.Event] = {}
        self._storage: Storage | None = None
        self._located = False
        self._locating = threading.Lock()  # one ``podman info`` for concurrent first reads

    def storage(self) -> Storage | None:
        """Found once from ``podman info``; a failed ``info`` is retried on
        the next read (and that read runs podman)."""
        if not self._located:
            with self._locating:  # the holder's podman is bounded by the runner's timeout
                if not self._located:
                    try:
                        storage = Storage.from_info(self._info())
                    except Exception as e:  # podman missing or broken: no caching for now
                        log.debug("answer cache: cannot locate the store: %s", e)
                        return None
                    with self._lock:
                        self._storage, self._located = storage, True
        return self._storage

    def run(self, args: Sequence[str], *, ok: Iterable[int] = (0,)) -> Completed:
        storage = self.storage()
        if storage is None:
            return self.runner.run(args, ok=ok)
        key = tuple(args)
        now = storage.fingerprint()  # read after the request arrived
        with self._lock:
            answer = self._hit(key, now)
            running = None if answer else self._running.get(key)
            if answer is None and running is None:
                mine = self._running[key] = threading.Event()
        if answer is None and running is not None:
            running.wait()  # someone is asking podman the same thing
            with self._lock:
                answer = self._hit(key, now)
            if answer is None:
                return self.runner.check_exit(self._ask(storage, key, args), ok)
        if answer is not None:
            return self.runner.check_exit(answer, ok)
        try:
            return self.runner.check_exit(self._ask(storage, key, args, before=now), ok)
        finally:
            with self._lock:
                self._running.pop(key, None)
            mine.set()

    def _hit(self, key: tuple, now: tuple) -> Completed | None:
        entry = self._answers.get(key)
        if entry is None or entry[0] != now:
            return None
        self._answers.move_to_end(key)
        return entry[1]

    def _ask(self, storage: Storage, key: tuple, args: Sequence[str], before: tuple | None = None) -> Completed:
        """Run podman; keep the answer if the storage did not change while it ran."""
        before = storage.fingerprint() if before is None else before
        result = self.runner.run_unchecked(args)
        if storage.fingerprint() == before:
            with self._lock:
                if before != self._generation:  # all kept answers are of another state
                    self._answers.clear()
                    self._generation = before
                self._answers[key] = (before, result)
                while len(self._answers) > self.size:
                    self._answers.popitem(last=False)
        return result
