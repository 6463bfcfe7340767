"""Unsent text survives any exit: drafts on disk, offered back on the next open, gone once sent;
and a terminal that goes away makes the app leave by itself with the draft kept."""

from __future__ import annotations

import os
import stat

from test_ui_support import (
    POLICIES, make_app, screen_text, showing, small_database, wait_for, war_room, war_room_ready,
)

from warroom.service import IncidentService
from warroom.service.drafts import DraftSlot, DraftStore
from warroom.ui.driver import TerminalGone
from warroom.ui.screens.dialogs import Confirm
from warroom.ui.widgets.entry_bar import EntryBar, EntryInput


def draft_texts(store: DraftStore) -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(store.folder.glob("*/*.txt"))]


async def entry_texts(path, incident_id) -> list[str]:
    service = await IncidentService.open(path, POLICIES)
    try:
        return [entry.text for entry in await service.entries(incident_id)]
    finally:
        await service.close()


async def test_unsent_text_is_on_disk_while_typing_and_comes_back_on_the_next_open(tmp_path):
    path, incident_id = await small_database(tmp_path)
    store = DraftStore(tmp_path / "state" / "drafts", path)
    app = make_app(path, incident_id, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press(*"half a thought")
        # Saved while the app still runs: a kill -9 now would lose nothing.
        await wait_for(pilot, lambda: draft_texts(store) == ["half a thought"])
        folders = [store.root, store.folder, *store.folder.iterdir()]
        assert all(stat.S_IMODE(folder.stat().st_mode) == 0o700 for folder in folders)
        assert all(stat.S_IMODE(file.stat().st_mode) == 0o600 for file in store.folder.glob("*/*"))
    app = make_app(path, incident_id, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = war_room(app).query_one(EntryBar)
        assert bar.text == "half a thought"
        assert "Restored the draft that was not sent" in screen_text(app)
        await pilot.press(*" and the rest")  # the cursor is at the end, nothing selected
        assert bar.text == "half a thought and the rest"
        await pilot.press("enter")
        await wait_for(pilot, lambda: draft_texts(store) == [])  # sent: the draft is discarded
    assert (await entry_texts(path, incident_id))[-1] == "half a thought and the rest"
    app = make_app(path, incident_id, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        assert war_room(app).query_one(EntryBar).text == ""
        assert "Restored" not in screen_text(app)


async def test_the_last_keys_before_an_exit_are_kept(tmp_path):
    """Quitting right after a key (before the timed save) still keeps it."""
    path, incident_id = await small_database(tmp_path)
    store = DraftStore(tmp_path / "drafts", path)
    app = make_app(path, incident_id, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press(*"last words")
        app.exit()
    assert draft_texts(store) == ["last words"]


async def test_a_terminal_that_goes_away_ends_the_app_with_the_draft_kept(tmp_path):
    path, incident_id = await small_database(tmp_path)
    store = DraftStore(tmp_path / "drafts", path)
    app = make_app(path, incident_id, drafts=store)
    leaving: list[int] = []
    app.on_leaving = leaving.append
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press(*"typed before the hangup")
        app.post_message(TerminalGone("the terminal closed (end of input)"))
        await wait_for(pilot, lambda: not app.is_running)
    assert app.gone_reason == "the terminal closed (end of input)"
    assert app.return_code == 129 and leaving == [129]
    assert draft_texts(store) == ["typed before the hangup"]


async def test_two_screens_on_one_incident_keep_their_own_drafts(tmp_path):
    path, incident_id = await small_database(tmp_path)
    store = DraftStore(tmp_path / "drafts", path)
    live = store.slot(incident_id).open()  # another screen, still open, with its own unsent text
    live.save("from the first")
    app = make_app(path, incident_id, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        assert war_room(app).query_one(EntryBar).text == ""  # a live screen's draft is not taken
        await pilot.press(*"from the second")
        await wait_for(pilot, lambda: sorted(draft_texts(store)) == ["from the first", "from the second"])
    live.close()  # that screen goes too, its text unsent
    app = make_app(path, incident_id, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        restored = war_room(app).query_one(EntryBar).text
        assert sorted(restored.split("\n")) == ["from the first", "from the second"]
        await wait_for(pilot, lambda: draft_texts(store) == [restored])  # taken over: one slot now


async def test_quit_says_the_text_is_kept_as_a_draft(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id, drafts=DraftStore(tmp_path / "drafts", path))
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press(*"not yet")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: showing(app, Confirm))
        assert "kept as a draft" in screen_text(app)
        await pilot.press("n")
    demo = make_app(path, incident_id, drafts=DraftStore(tmp_path / "demo-drafts", path, lasting=False))
    async with demo.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press(*"not yet")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(demo.screen, Confirm))
        assert "Quit and lose it?" in screen_text(demo)


async def test_a_broken_drafts_folder_is_said_and_typing_goes_on(tmp_path):
    path, incident_id = await small_database(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the drafts folder should be")
    app = make_app(path, incident_id, drafts=DraftStore(blocker, path))
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await wait_for(pilot, lambda: any("drafts cannot be kept" in note.message for note in app._notifications))
        await pilot.press(*"still typing")
        assert war_room(app).query_one(EntryInput).value == "still typing"


def test_a_slot_left_by_a_killed_screen_is_offered_and_taken_over(tmp_path):
    """kill -9 leaves the text file; its lock dies with the process, so the next screen takes it."""
    store = DraftStore(tmp_path, tmp_path / "x.db")
    dead = store.slot("INC-1").open()
    dead.save("unsent")
    os.close(dead._lock)  # what a killed process leaves: the text and a lock file nobody holds
    alive = store.slot("INC-1").open()
    [draft] = alive.leftovers()
    assert draft.text == "unsent"
    alive.take_over([draft], "unsent")
    assert [p.name for p in (tmp_path / store.folder.name / "INC-1").glob("*.txt")] == [alive.path.name]
    other = DraftSlot(alive.root, alive.folder).open()
    assert other.leftovers() == []  # the live slot's lock is held


async def test_a_full_disk_is_said_once_and_typing_goes_on(tmp_path, monkeypatch):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id, drafts=DraftStore(tmp_path / "drafts", path))

    attempts = []

    def full(self, text):
        attempts.append(text)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(DraftSlot, "save", full)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press(*"first")
        problems = lambda: [n.message for n in app._notifications if "could not be saved" in n.message]  # noqa: E731
        await wait_for(pilot, lambda: problems() == ["✗ the draft could not be saved: No space left on device"])
        await pilot.press(*" and more")
        assert war_room(app).query_one(EntryInput).value == "first and more"
        await wait_for(pilot, lambda: "first and more" in attempts)  # tried again, not said again
        assert len(problems()) == 1


async def test_a_disk_slow_to_save_the_draft_holds_no_key_back(tmp_path, monkeypatch):
    """The save runs beside the screen, one at a time: while the disk takes its time, keys are
    echoed and drawn, and the latest text is saved once the disk is back."""
    import threading

    disk, saving = threading.Event(), threading.Event()
    real = DraftSlot.save

    def slow_save(self, text):
        saving.set()
        disk.wait(120)  # a disk busy with a report, a checkpoint, another program (longer than any wait_for)
        return real(self, text)

    path, incident_id = await small_database(tmp_path)
    store = DraftStore(tmp_path / "state" / "drafts", path)
    app = make_app(path, incident_id, drafts=store)
    monkeypatch.setattr(DraftSlot, "save", slow_save)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await war_room_ready(pilot)
            drawn: list[str] = []  # the bar's text at each frame sent out
            real_display = app._display
            bar = war_room(app).query_one(EntryInput)

            def display(screen, update):
                drawn.append(bar.value)
                return real_display(screen, update)

            app._display = display
            await pilot.press(*"first")
            await wait_for(pilot, saving.is_set)  # the save of "first" waits for the disk
            await pilot.press(*" and more")
            await wait_for(pilot, lambda: "first and more" in drawn)  # drawn while the save waits
            disk.set()
            await wait_for(pilot, lambda: draft_texts(store) == ["first and more"])
    finally:
        disk.set()
