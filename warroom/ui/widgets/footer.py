"""The footer of the war room and the picker: Textual's Footer, built again only when the keys it
shows change."""

from __future__ import annotations

from textual.widgets import Footer


class KeysFooter(Footer):
    """Textual's Footer recomposes itself (a widget per key) at every change of its screen's
    bindings, and a screen covered by a dialog, or shown again, counts as one: 10-15 ms of the
    event loop at each F2-F6 and each dialog, for the same keys. Here it is built again only
    when the keys, their state or their tooltips differ from the ones it shows."""

    _shown: tuple | None = None  # the keys as last composed

    def _keys(self) -> tuple:
        return tuple((key, binding, enabled, tooltip)
                     for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items())

    def bindings_changed(self, screen) -> None:
        if self._shown is not None and screen is self.screen and self._keys() == self._shown:
            return
        super().bindings_changed(screen)

    def compose(self):
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()
