"""Holding the app's painting for a moment, so that what belongs together is drawn in one frame."""

from __future__ import annotations


def draw_pending(app) -> None:
    """Draw what is waiting to be drawn now, not at the screen's next frame slot.

    Textual paces frames on a 1/60 s interval timer, and a frame asked for soon after another
    waits for the slot after next: 17-33 ms. That wait was most of the slowest tenth of Enters
    (33-47 ms to show, the frame before being the clock's or a probe's). The screen's update is
    what that timer runs; nothing is drawn while any batch is still held."""
    try:
        screen = app.screen
    except Exception:  # no screen left: the app is closing
        return
    update = getattr(screen, "_on_timer_update", None)  # Textual 8's frame (tests/test_ui_latency.py)
    if update is not None and screen.is_current and not getattr(app, "_batch_count", 1):
        update()


class PaintHold:
    """Nothing is drawn from now until `release()`, or for `limit` seconds at most, whichever
    comes first (Textual's batch_update, with a bound). Textual draws at most one frame every
    1/60 s: a frame drawn just before something that follows a moment later (the bar emptied on
    Enter, then the entry it committed; a dialog, then the text it reads) makes that wait for
    the next frame, and costs a frame of its own. Release it as soon as what it waits for is in."""

    def __init__(self, app, limit: float) -> None:
        self._app = app
        self._batch = app.batch_update()
        self._batch.__enter__()
        self._timer = app.set_timer(max(limit, 0.001), self.release)  # (a Textual timer of 0 s never fires)

    @property
    def held(self) -> bool:
        return self._batch is not None

    def release(self) -> None:
        """Draw again, at once: what changed meanwhile is in the frame drawn now (not one that
        waits for the screen's next frame slot); a second call does nothing."""
        batch, self._batch = self._batch, None
        if batch is not None:
            self._timer.stop()
            batch.__exit__(None, None, None)
            # After the messages the screen has queued already (the Update of a widget that
            # changed while held), so the frame drawn holds them.
            try:
                screen = self._app.screen
            except Exception:  # no screen left: the app is closing, nothing to draw
                return
            screen.call_later(draw_pending, self._app)
