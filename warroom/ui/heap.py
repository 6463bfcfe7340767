"""When the garbage collector's full collections run in a war room of its own process: in a pause.

After `gc.freeze()` (WarRoomApp.settle_heap) a full collection scans only what was made since
start, but while entries are typed that is soon tens of thousands of objects: 7-14 ms, and Python
starts one every ten second-generation collections, in the middle of whatever frame allocated
last, such as the one showing the entry just typed (most of the slowest Enter -> visible). So
Python's own full collections are made rare (THRESHOLDS: one every 100 second-generation ones,
so memory is still bounded in a long burst of typing), and `QuietCollector` runs one itself, on a
timer, when no key came for QUIET seconds and young objects were collected since the last.
"""

from __future__ import annotations

import gc
import time

THRESHOLDS = (700, 10, 100)  # Python's (700, 10, 10), with full collections ten times rarer
QUIET = 2.0  # seconds without a key before a full collection may run
EVERY = 5.0  # seconds between looks at whether one is owed


class QuietCollector:
    """Full collections in pauses of the keyboard (`start()` sets the thresholds; the app calls
    `keyed()` for every key and `look()` every EVERY seconds)."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.last_key = clock()
        self.collections = 0  # full collections run here

    def start(self) -> None:
        gc.set_threshold(*THRESHOLDS)

    def keyed(self) -> None:
        self.last_key = self.clock()

    def look(self) -> bool:
        """Run a full collection if the keyboard has been quiet and the young generations were
        collected since the last full one (something may have been promoted); True if it ran."""
        if self.clock() - self.last_key < QUIET or gc.get_count()[2] == 0:
            return False
        gc.collect(2)
        self.collections += 1
        return True
