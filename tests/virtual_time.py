"""Virtual time for scheduler tests: an event loop whose clock jumps to the next timer whenever
nothing is ready to run, so `asyncio.sleep`, `call_later`, `wait_for` and timeouts take no real
time and a busy machine cannot make a check late.

Only for code that waits on timers and on itself (the probe engine with a fake checker): a thread
or a socket that has not answered yet does not hold the clock back, so real I/O belongs in tests
that wait on a condition instead. Imported by the engine tests; it holds no tests of its own.
"""

from __future__ import annotations

import asyncio
import functools
import selectors
from typing import Any, Awaitable, Callable


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without blocking; when nothing is ready, moves `now` on by the loop's timeout instead
    of waiting for it. With no timer at all it blocks as usual (for the loop's own wake-ups)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None):
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            return super().select(None)
        self.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on virtual time: `time()` starts at 0 and only moves when every task waits."""

    def __init__(self) -> None:
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)

    def time(self) -> float:
        return self._jumping.now


def virtual_time(test: Callable[..., Awaitable[Any]]) -> Callable[..., None]:
    """Run an async test on a fresh VirtualTimeLoop (pytest sees a plain function, so pytest-asyncio
    leaves it alone; fixtures must be plain ones)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            runner.run(test(*args, **kwargs))

    return run


async def advance(seconds: float) -> None:
    """Let `seconds` of virtual time pass: every timer due by then fires, in order."""
    if not isinstance(asyncio.get_running_loop(), VirtualTimeLoop):
        raise RuntimeError("advance() is for tests decorated with @virtual_time (it would really sleep)")
    await asyncio.sleep(seconds)
