"""Holding the app's painting for a moment, so that what belongs together is drawn in one frame."""

from __future__ import annotations


class PaintHold:
    """Nothing is drawn from now until `release()`, or for `limit` seconds at most, whichever
    comes first (Textual's batch_update, with a bound). Textual draws at most one frame every
    1/60 s: a frame drawn just before something that follows a moment later (the bar emptied on
    Enter, then the entry it committed; a dialog, then the text it reads) makes that wait for
    the next frame, and costs a frame of its own. Release it as soon as what it waits for is in."""

    def __init__(self, app, limit: float) -> None:
        self._batch = app.batch_update()
        self._batch.__enter__()
        self._timer = app.set_timer(max(limit, 0.001), self.release)  # (a Textual timer of 0 s never fires)

    @property
    def held(self) -> bool:
        return self._batch is not None

    def release(self) -> None:
        """Draw again (what changed meanwhile is in the next frame); a second call does nothing."""
        batch, self._batch = self._batch, None
        if batch is not None:
            self._timer.stop()
            batch.__exit__(None, None, None)
