"""The worker's slots for requests with a body: at most ``limit`` at once, so
that a few stalled uploads cannot take every thread from the requests without
a body. When all are taken, one request at a time waits up to
``BODY_SLOT_GRACE`` s for one: a client's previous request may have been
answered while its thread has not yet let go of the slot (a sequential client
then got a spurious 503).
"""
from __future__ import annotations

import threading

BODY_SLOT_GRACE = 0.2  # seconds one request may wait for a body slot that is being released


class BodySlots:
    def __init__(self, limit: int, grace: float = BODY_SLOT_GRACE):
        self.limit = limit
        self.grace = grace
        self._taken = 0
        self._released = threading.Condition()
        self._waiter = False  # one request at a time waits for a slot

    def take(self) -> bool:
        """A slot, or False when none came free within the grace."""
        with self._released:
            if self._taken >= self.limit and not self._waiter:
                self._waiter = True
                try:
                    self._released.wait_for(lambda: self._taken < self.limit, self.grace)
                finally:
                    self._waiter = False
            if self._taken >= self.limit:
                return False
            self._taken += 1
            return True

    def release(self) -> None:
        with self._released:
            self._taken -= 1
            self._released.notify()
