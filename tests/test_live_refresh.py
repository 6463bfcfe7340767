"""Refresh by what changed: a war room reads the change log (schema V4) and reloads only the parts
that changed; what it wrote itself is shown without reading it back. Counted in SQL statements
(SQLite's trace callback on both of the screen's connections), and checked across two screens
(two apps on one database file, as two terminals)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from test_ui_support import (
    POLICIES, make_app, screen_text, small_database, submit_and_wait, wait_for, war_room, war_room_ready,
)

from warroom.probes.config import make_http_probe
from warroom.probes.result import ProbeResult
from warroom.service import IncidentService
from warroom.store.probes import ProbeStore
from warroom.ui.widgets.health import HealthPane
from warroom.ui.widgets.timeline import Timeline


@asynccontextmanager
async def counting(app):
    """Every statement the app's service runs while inside, as (connection, SQL) pairs: on the
    writer, the reader, and the plain connection that answers data_version (see SQLiteDatabase)."""
    seen: list[tuple[str, str]] = []
    db = app.service.db
    await db.data_version()  # its connection is opened at the first question
    versions = db._versions
    await db.conn.set_trace_callback(lambda sql: seen.append(("writer", sql)))
    await db.reader.set_trace_callback(lambda sql: seen.append(("reader", sql)))
    versions.set_trace_callback(lambda sql: seen.append(("versions", sql)))
    try:
        yield seen
    finally:
        await db.conn.set_trace_callback(None)
        await db.reader.set_trace_callback(None)
        versions.set_trace_callback(None)


async def quiet(pilot):
    """The war room with nothing in the background: probes stopped, its timers paused and the
    watch of the file's version stopped (a local commit still makes the screen look at once)."""
    screen = war_room(pilot.app)
    await wait_for(pilot, lambda: screen.query_one(HealthPane).monitor is not None)
    await screen.monitor.stop()
    for timer in list(screen._timers):
        timer.pause()
    screen._stop_polling()
    await pilot.pause()
    return screen


def round_trips(seen: list[tuple[str, str]]) -> list[str]:
    """The statements sent to SQLite. The trace callback repeats a statement's text for each
    trigger program it runs (the change-log triggers), so repeats in a row are one statement."""
    sent: list[tuple[str, str]] = []
    for line in seen:
        if not sent or sent[-1] != line:
            sent.append(line)
    return [sql for _, sql in sent]


def idle(app) -> bool:
    return not any(worker.is_running and worker.group in ("record", "write", "timeline-pages", "timeline-reload")
                   for worker in app.workers)


def entry_shown(timeline: Timeline, number: int):
    return next((e for page in timeline._pages.values() for e in page if e.number == number), None)


async def test_a_typed_note_costs_a_handful_of_statements(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = await quiet(pilot)
        timeline = screen.query_one(Timeline)
        total = timeline.total
        async with counting(app) as seen:
            await submit_and_wait(pilot, "Rolled back deploy 4411")
            await wait_for(pilot, lambda: timeline.total == total + 1 and idle(app))
            await pilot.pause()
        assert timeline.selected.text == "Rolled back deploy 4411"
        assert "Rolled back deploy 4411" in screen_text(app)
    sent = round_trips(seen)
    # Sent: BEGIN, next number, INSERT, COMMIT, then the screen's look at the change log
    # (data_version, one read). No incident, roster, updates, COUNT or page read: the committed
    # entry is appended as the write returned it. Before the change log it was 16.
    assert [sql.split()[0].upper() for sql in sent] == ["BEGIN", "SELECT", "INSERT", "COMMIT", "PRAGMA", "SELECT"], sent
    assert "FROM changes" in sent[-1]
    # SQLite's trace also reports the change-log triggers run inside the INSERT (3 more lines)
    assert len(seen) <= 9, "\n".join(f"{c}: {s[:90]}" for c, s in seen)


async def open_twice(tmp_path, **options):
    path, incident_id = await small_database(tmp_path, **options)
    return path, incident_id, make_app(path, incident_id), make_app(path, incident_id)


async def test_a_pin_in_one_screen_shows_in_the_other_within_a_second(tmp_path):
    path, incident_id, first, second = await open_twice(tmp_path)
    async with first.run_test(size=(120, 40)) as one, second.run_test(size=(120, 40)) as two:
        await war_room_ready(one)
        await war_room_ready(two)
        other = war_room(second).query_one(Timeline)
        assert not entry_shown(other, 2).pinned
        async with counting(second) as seen:
            await submit_and_wait(one, "/pin 2")
            await wait_for(two, lambda: entry_shown(other, 2).pinned, timeout=1.0)
        assert "★" in screen_text(second)
        reads = [sql for _, sql in seen if not sql.startswith("PRAGMA data_version")]
        assert len(reads) <= 3, reads  # the change log, then entry #2 alone (no COUNT, no page)
        assert any("number IN" in sql for sql in reads) and not any("COUNT(" in sql for sql in reads)
        # and back, from `warroom log` (a third connection): the star goes in every open screen
        service = await IncidentService.open(path, POLICIES)
        try:
            await service.execute(incident_id, "/unpin 2", "bob")
        finally:
            await service.close()
        mine = war_room(first).query_one(Timeline)
        await wait_for(two, lambda: not entry_shown(other, 2).pinned, timeout=1.0)
        await wait_for(one, lambda: not entry_shown(mine, 2).pinned, timeout=1.0)


async def test_entries_from_elsewhere_are_appended_and_a_correction_shows(tmp_path):
    path, incident_id, first, second = await open_twice(tmp_path)
    async with first.run_test(size=(120, 40)) as one, second.run_test(size=(120, 40)) as two:
        await war_room_ready(one)
        await war_room_ready(two)
        await submit_and_wait(one, "/sev SEV-1 checkout down everywhere")
        other = war_room(second)
        await wait_for(two, lambda: other.incident.severity == "SEV-1", timeout=1.0)
        await submit_and_wait(two, "written in the second screen")
        await submit_and_wait(one, "/correct 5 the deploy was 4412")
        timeline = war_room(first).query_one(Timeline)
        # declared #1, commander #2, notes #3-#5, severity #6, the second screen's note #7, correction #8
        await wait_for(one, lambda: timeline.total == 8 and entry_shown(timeline, 7) is not None)
        assert entry_shown(timeline, 7).text == "written in the second screen"
        await wait_for(two, lambda: "(corrects #5) the deploy was 4412" in screen_text(second), timeout=1.0)
        assert [entry_shown(other.query_one(Timeline), n).number for n in range(1, 9)] == list(range(1, 9))


async def test_probe_result_batches_alone_do_not_reload_the_record(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = await quiet(pilot)
        writer = await IncidentService.open(path, POLICIES)  # another screen's probe holder
        try:
            async with counting(app) as seen:
                batch = [ProbeResult(probe="api", checked_at=writer.now(), ok=True, latency_ms=3.0)]
                await ProbeStore(writer.db).insert_results(batch, incident_id)
                screen.follow_record()
                await pilot.pause()
                await wait_for(pilot, lambda: idle(app))
        finally:
            await writer.close()
    assert [sql.split()[0] for _, sql in seen] == ["PRAGMA", "SELECT"], seen  # data_version, the change log
    assert "FROM changes" in seen[1][1]


async def test_both_health_panes_show_one_truth_and_fast_mode_from_either(tmp_path, target):
    path, incident_id = await small_database(tmp_path)
    service = await IncidentService.open(path, POLICIES)
    try:
        for name, url in (("api", target.url("/ok")), ("web", target.url("/status/503"))):
            await service.attach_probe(incident_id, make_http_probe(name, url, interval="200ms", failure_threshold=1))
    finally:
        await service.close()
    first, second = make_app(path, incident_id), make_app(path, incident_id)
    async with first.run_test(size=(120, 40)) as one, second.run_test(size=(120, 40)) as two:
        await war_room_ready(one)
        await war_room_ready(two)
        panes = [war_room(app).query_one(HealthPane) for app in (first, second)]
        await wait_for(two, lambda: all(p.monitor is not None and len(p.rows) == 2 for p in panes))
        assert [p.monitor.writing for p in panes].count(True) == 1  # one screen checks, for both

        def same_and_counted():
            rows = [[(r.word, r.name, r.uptime, r.since, r.latency) for r in p.rows] for p in panes]
            return rows[0] == rows[1] and rows[0][0][:2] == ("DOWN", "web") and rows[0][0][2] == "up 0.0%" \
                and rows[0][1][2] == "up 100%"
        try:
            await wait_for(two, same_and_counted)
        except AssertionError:
            raise AssertionError([[(r.word, r.name, r.uptime, r.since, r.latency) for r in p.rows] for p in panes])
        await wait_for(two, lambda: same_and_counted() and all(p.border_subtitle == "" for p in panes))
        watcher = next(p for p in panes if not p.monitor.writing)  # fast mode asked from the screen that does not check
        watcher.focus()
        await (one if watcher is panes[0] else two).press("f")
        await wait_for(two, lambda: all(p.border_subtitle.startswith("fast ") for p in panes), timeout=3.0)
        holder = next(p for p in panes if p.monitor.writing)
        assert holder.monitor.engine.fast_mode_remaining() is not None  # the screen that checks runs it


async def test_a_delta_reloads_only_the_parts_that_changed(service):
    incident = await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")
    live = service.live(incident.id)
    await live.load()
    elsewhere = service.live(incident.id)  # another screen on the same incident
    await elsewhere.load()

    async def after(text: str):
        written = await service.execute(incident.id, text, "bob")
        return written, await elsewhere.poll()

    _, note = await after("EU error rate at 31%")
    assert note.parts == {"entries"} and [e.text for e in note.appended] == ["EU error rate at 31%"]
    assert note.incident is None and note.roster is None and note.updates is None and not note.restated
    _, sev = await after("/sev SEV-1 checkout down")
    assert sev.incident.severity == "SEV-1" and sev.roster is None and sev.updates is None
    _, role = await after("/assign tl bob")
    assert role.incident is None and [s.person for s in role.roster if s.role_id == "tl"] == ["bob"]
    _, update = await after("/update Checkout is degraded")
    assert update.updates and update.incident is None and update.roster is None
    _, pin = await after("/pin 2")
    assert pin.parts == {"entry"} and [(e.number, e.pinned) for e in pin.restated] == [(2, True)]
    assert not pin.appended
    assert await elsewhere.poll() is None  # nothing since: one PRAGMA, nothing read
    assert (await live.poll()).total == 6  # the first screen catches up
    written = await service.execute(incident.id, "seen here first", "alice")
    mine = await live.written(written)  # this screen's own write: taken as returned, not read back
    assert mine.appended == written and mine.total == written[0].number == 7
    await service.execute(incident.id, "from another terminal", "bob")
    written = await service.execute(incident.id, "mine again", "alice")
    mine = await live.written(written)  # an entry came in between: read with it, in order
    assert [e.text for e in mine.appended] == ["from another terminal", "mine again"]


async def test_the_change_log_stays_bounded_and_a_reader_that_fell_behind_reloads_everything(service):
    incident = await service.declare("Busy incident", "SEV-2", author="alice")
    live = service.live(incident.id)
    await live.load()
    async with service.db.transaction() as conn:  # 5,000 entries in one go (as a bulk import would)
        await conn.executemany(
            "INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text)"
            " VALUES (?, ?, '2026-11-23T14:00:00.000000Z', '2026-11-23T14:00:00.000000Z', 'bot', 'note', 'x')",
            [(incident.id, number) for number in range(2, 5002)])
    async with service.db.reader.execute("SELECT COUNT(*), MIN(id), MAX(id) FROM changes") as cursor:
        count, oldest, newest = await cursor.fetchone()
    assert count <= 4096 + 256 and newest - oldest + 1 == count  # bounded, and no gaps
    delta = await live.poll()
    assert delta.everything and delta.total == 5001  # its next change was pruned: everything again
    assert await live.poll() is None


async def test_data_version_is_answered_on_the_loop_and_moves_with_every_commit(tmp_path):
    from warroom.store.database import open_sqlite

    path, incident_id = await small_database(tmp_path)
    db, other = await open_sqlite(path), await IncidentService.open(path, POLICIES)
    try:
        reader_saw: list[str] = []
        await db.reader.set_trace_callback(reader_saw.append)
        first = await db.data_version()
        assert await db.data_version() == first  # nothing committed: the same
        await other.execute(incident_id, "from another process", "bob")
        second = await db.data_version()
        assert second != first  # another connection committed
        async with db.transaction() as conn:  # and this one's own writer
            await conn.execute("UPDATE incidents SET title = title")
        assert await db.data_version() != second
        assert reader_saw == []  # not one hop to the reader's thread
        db._versions.close()  # its connection broken: a number never given, so a look, not a miss
        unknown = [await db.data_version() for _ in range(2)]
        assert len(set(unknown) | {first, second}) == 4
    finally:
        await other.close()
        await db.close()


async def test_an_idle_screen_sends_no_statement_and_starts_no_worker(tmp_path, monkeypatch):
    """While nobody commits, the file's version is read by the watch's thread on its own
    connection: the app's connections (the data_version one too) see nothing, no worker starts."""
    from textual.worker import Worker

    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = war_room(app)
        await wait_for(pilot, lambda: screen.query_one(HealthPane).monitor is not None)
        await screen.monitor.stop()
        for timer in list(screen._timers):  # the clock's ticks and the look at other incidents
            timer.pause()
        watch = screen._stop_polling.__self__
        settled = watch.looks
        await wait_for(pilot, lambda: watch.looks >= settled + 2 and idle(app))
        started: list[str] = []
        real = Worker.__init__
        monkeypatch.setattr(Worker, "__init__", lambda self, *a, **k: started.append(k.get("group")) or real(self, *a, **k))
        async with counting(app) as seen:
            read = watch.looks
            await wait_for(pilot, lambda: watch.looks >= read + 5)  # five looks at the version
        assert [sql for _, sql in seen] == [] and started == []
