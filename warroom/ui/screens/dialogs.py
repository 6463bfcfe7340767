"""Small modal dialogs: ask for one line of text, confirm, or show a read-only panel of text."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from warroom.ui.widgets.inert_input import InertInput


class AskText(ModalScreen[str | None]):
    """One-line prompt; Enter returns the text, Escape returns None. Enter is a priority binding,
    so the dialog closes before the keys typed behind it are dispatched (they go to the screen
    below, not into this input, which is about to go)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("enter", "submit", "Confirm", show=False, priority=True)]
    DEFAULT_CSS = """
    AskText { align: center middle; }
    AskText > Vertical {
        width: 70; max-width: 95%; height: auto; border: thick $primary; background: $surface; padding: 1 2;
    }
    AskText Label { width: 100%; margin-bottom: 1; }
    AskText .hint { color: $text-muted; margin: 0; }
    """

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "") -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder, self.hint = title, value, placeholder, hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text))
            yield InertInput(self.value, placeholder=self.placeholder, id="ask-input")
            yield Label(Text(self.hint or "Enter to confirm · Esc to cancel"), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_submit(self) -> None:
        self.dismiss(self.query_one("#ask-input", Input).value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """Yes/no question; y/Enter confirms, n/Escape declines."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    # Its own CSS: a class's DEFAULT_CSS loads only once that class is used, so Confirm cannot borrow AskText's.
    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical {
        width: 70; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    Confirm Label { width: 100%; margin-bottom: 1; }
    Confirm Horizontal { height: auto; align: right middle; }
    Confirm Button { margin-left: 2; }
    """

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.question))
            with Horizontal():
                yield Button(f"{self.no} (n)", id="no")
                yield Button(f"{self.yes} (y)", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class Choose(ModalScreen[str | None]):
    """A question with a few answers, each on its own key (and button); Escape returns None."""

    BINDINGS = [Binding("escape", "answer('')", "Cancel")]
    DEFAULT_CSS = """
    Choose { align: center middle; }
    Choose > Vertical {
        width: 76; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    Choose Label { width: 100%; margin-bottom: 1; }
    Choose Horizontal { height: auto; align: right middle; }
    Choose Button { margin-left: 1; }
    """

    def __init__(self, question: str, answers: list[tuple[str, str, str]], cancel: str = "Cancel") -> None:
        """`answers`: (key, button label, value returned), the first one focused."""
        super().__init__()
        self.question, self.answers, self.cancel = question, answers, cancel
        for key, _, value in answers:
            self._bindings.bind(key, f"answer({value!r})", show=False)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.question))
            with Horizontal():
                yield Button(f"{self.cancel} (Esc)", id="choose-cancel")
                for key, label, value in self.answers:
                    yield Button(f"{label} ({key})", id=f"choose-{value}")

    def on_mount(self) -> None:
        self.query_one(f"#choose-{self.answers[0][2]}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "choose-cancel" else str(event.button.id).removeprefix("choose-"))

    def action_answer(self, value: str) -> None:
        self.dismiss(value or None)


class TextPanel(ModalScreen[None]):
    """A read-only panel: `text` (built from rich Text, so typed text stays inert) above a hint line.

    Subclasses name what they show; `body_id` lets tests and callers find the body."""

    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]
    DEFAULT_CSS = """
    TextPanel { align: center middle; }
    TextPanel > Vertical { width: 100; max-width: 98%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1; }
    TextPanel.-warning > Vertical { border: thick $warning; }
    TextPanel VerticalScroll { height: auto; max-height: 20; }
    TextPanel .hint { color: $text-muted; }
    """

    def __init__(self, text: Text, hint: str, body_id: str, warning: bool = False) -> None:
        super().__init__(classes="-warning" if warning else None)
        self.text, self.hint, self.body_id = text, hint, body_id

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(self.text, id=self.body_id)
            yield Label(Text(self.hint), classes="hint")
