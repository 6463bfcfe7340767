"""The verifiable record: hash-chained entries, `warroom verify` on the database and on exports."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess

import pytest

from warroom.domain.chain import GENESIS, ChainFields, chain, entry_hash, verify_chain, verify_export
from warroom.domain.errors import WarroomError
from warroom.domain.report import to_json_dict
from db_access import is_pg, rows_now


def tamper(database, *statements: str) -> None:
    """Change the record behind warroom's back, as someone with the sqlite3 shell (or psql, as the
    owner of the tables) would."""
    if is_pg(database):
        for statement in statements:
            rows_now(database, statement.replace("DROP TRIGGER entries_no_rewrite;", "DROP TRIGGER entries_no_rewrite ON entries")
                     .replace("DROP TRIGGER entries_no_delete;", "DROP TRIGGER entries_no_delete ON entries"))
        return
    db_path = database
    script = "\n".join(statements) + "\n"
    if shutil.which("sqlite3"):
        done = subprocess.run(["sqlite3", str(db_path)], input=script, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and not done.stderr, done.stderr
    else:  # the same statements through the library the shell is built on
        conn = sqlite3.connect(db_path)
        conn.executescript(script)
        conn.close()


def declare_and_log(run_cli, *notes: str) -> str:
    declared = run_cli("declare", "Checkout errors", "--severity", "SEV-2", "--commander", "alice")
    assert declared.returncode == 0, declared.stderr
    incident_id = declared.stdout.strip()
    for note in notes:
        logged = run_cli("log", incident_id, note)
        assert logged.returncode == 0, logged.stderr
    return incident_id


async def test_every_written_entry_is_chained_to_the_one_before(service):
    incident = await service.declare("Outage", "SEV-2", author="alice", commander="alice")
    await service.execute(incident.id, "/sev 1 worse", "bob")
    await service.execute(incident.id, "-5m back-dated note", "bob")  # time order differs from numbers
    await service.execute(incident.id, "/pin 3", "bob")  # pinning changes no hashed field
    entries = sorted(await service.entries(incident.id), key=lambda e: e.number)
    assert [e.hash for e in entries] == chain(ChainFields.of(e) for e in entries)
    assert entries[0].hash == entry_hash(ChainFields.of(entries[0]), GENESIS)
    report = await service.verify(incident.id)
    assert report.intact and report.entries == len(entries) and report.head == entries[-1].hash
    record = await service.record(incident.id)
    assert record.chain_head == report.head


def test_each_hashed_field_and_the_predecessor_change_the_hash():
    base = ChainFields("INC-1", 1, "2026-11-23T14:00:00.000000Z", "2026-11-23T14:00:00.000000Z", "alice",
                       "note", "text", {"a": [1, 2]}, None)
    seen = {entry_hash(base, GENESIS), entry_hash(base, "1" * 64)}
    for name, value in (("incident_id", "INC-2"), ("number", 2), ("occurred_at", "2026-11-23T14:00:00.000001Z"),
                        ("recorded_at", "2026-11-23T14:00:01.000000Z"), ("author", "mallory"), ("kind", "decision"),
                        ("text", "text "), ("data", {"a": [1, 3]}), ("corrects", 7)):
        seen.add(entry_hash(ChainFields(**{**{f: getattr(base, f) for f in ChainFields._fields}, name: value}),
                            GENESIS))
    assert len(seen) == 11
    # The data's key order is not part of the content.
    assert entry_hash(ChainFields(*[getattr(base, f) for f in ChainFields._fields][:7], {"b": 1, "a": 2}, None),
                      GENESIS) == entry_hash(ChainFields(*[getattr(base, f) for f in ChainFields._fields][:7],
                                                         {"a": 2, "b": 1}, None), GENESIS)


def test_verify_chain_names_the_first_entry_that_does_not_match():
    fields = [ChainFields("INC-1", n, "t", "t", "a", "note", f"entry {n}", None, None) for n in range(1, 5)]
    hashes = chain(fields)
    assert verify_chain("INC-1", zip(fields, hashes)).intact
    changed = [fields[0], ChainFields("INC-1", 2, "t", "t", "a", "note", "rewritten", None, None), *fields[2:]]
    report = verify_chain("INC-1", zip(changed, hashes))
    assert (report.number, report.entries) == (2, 1) and "does not match its hash" in report.problem
    report = verify_chain("INC-1", [(fields[0], hashes[0]), (fields[2], hashes[2]), (fields[3], hashes[3])])
    assert report.number == 3 and "(#2) are missing" in report.problem
    report = verify_chain("INC-1", [(fields[0], hashes[0]), (fields[1], None)])
    assert report.number == 2 and "written outside warroom" in report.problem
    assert verify_chain("INC-1", []).intact and verify_chain("INC-1", []).head is None


def test_untouched_record_verifies_and_a_rewritten_entry_is_named(run_cli, database):
    incident_id = declare_and_log(run_cli, "first note", "second note", "third note")
    ok = run_cli("verify", incident_id)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"{incident_id}: intact, 5 entries, head ")
    everything = run_cli("verify")
    assert everything.returncode == 0 and incident_id in everything.stdout

    tamper(database, "DROP TRIGGER entries_no_rewrite;",
           f"UPDATE entries SET text = 'nothing happened' WHERE incident_id = '{incident_id}' AND number = 4;")
    broken = run_cli("verify", incident_id)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout.strip() == (f"{incident_id}: BROKEN at entry #4: entry #4 does not match its hash: "
                                     "it was changed after it was written (or its hash was)")
    assert run_cli("verify").returncode == 1


def test_a_removed_entry_and_a_changed_time_are_found(run_cli, database):
    incident_id = declare_and_log(run_cli, "one", "two", "three")
    tamper(database, "DROP TRIGGER entries_no_delete;", f"DELETE FROM entries WHERE number = 3 AND incident_id = '{incident_id}';")
    broken = run_cli("verify", incident_id)
    assert broken.returncode == 1 and "BROKEN at entry #4: entry #4: the entries before it (#3) are missing" in broken.stdout
    other = declare_and_log(run_cli, "alpha")
    tamper(database, "DROP TRIGGER entries_no_rewrite;",
           f"UPDATE entries SET occurred_at = '2026-01-01T00:00:00.000000Z' WHERE number = 1 AND incident_id = '{other}';")
    broken = run_cli("verify", other)
    assert broken.returncode == 1 and f"{other}: BROKEN at entry #1:" in broken.stdout


def test_head_from_a_report_pins_the_record(run_cli, database):
    incident_id = declare_and_log(run_cli, "one")
    report = run_cli("export", incident_id, "-f", "markdown")
    head = report.stdout.split("chain head `")[1].split("`")[0]
    assert len(head) == 64
    assert run_cli("log", incident_id, "later").returncode == 0  # growing is fine: the old head stays in the chain
    checked = run_cli("verify", incident_id, "--head", head[:16])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"head {head[:16]} is entry #3; 1 entries were added after it" in checked.stdout
    missing = run_cli("verify", incident_id, "--head", "0123456789abcdef")
    assert missing.returncode == 1 and "is not in the chain" in missing.stdout


def test_an_export_verifies_offline_and_a_tampered_one_is_caught(run_cli, cli_env, tmp_path):
    incident_id = declare_and_log(run_cli, "first note", "second note")
    exported = tmp_path / "export.json"
    assert run_cli("export", incident_id, "-o", str(exported)).returncode == 0
    data = json.loads(exported.read_text())
    assert data["chain"]["head"] == max(data["entries"], key=lambda e: e["number"])["hash"]
    offline = run_cli("verify", "--export", str(exported), env={**cli_env, "WARROOM_DB": str(tmp_path / "none.db")})
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert not (tmp_path / "none.db").exists()  # no database was needed, or made
    assert offline.stdout.startswith(f"{incident_id}: intact, 4 entries")

    def check(change) -> subprocess.CompletedProcess:
        copy = json.loads(exported.read_text())
        change(copy)
        path = tmp_path / "tampered.json"
        path.write_text(json.dumps(copy))
        return run_cli("verify", "--export", str(path))

    def rewrite(copy):
        next(e for e in copy["entries"] if e["number"] == 3)["text"] = "something else"

    done = check(rewrite)
    assert done.returncode == 1 and f"{incident_id}: BROKEN at entry #3: entry #3 does not match" in done.stdout
    done = check(lambda copy: copy["entries"].pop())  # the last entry dropped, head kept
    assert done.returncode == 1 and "is not the last entry's hash" in done.stdout
    done = check(lambda copy: copy["chain"].update(head="f" * 64))
    assert done.returncode == 1 and "chain head" in done.stdout
    done = check(lambda copy: next(e for e in copy["entries"] if e["number"] == 2)["data"].update(role="scribe"))
    assert done.returncode == 1 and "BROKEN at entry #2" in done.stdout
    done = check(lambda copy: next(e for e in copy["entries"] if e["number"] == 3).update(data={"x": float("nan")}))
    assert done.returncode == 1 and "BROKEN at entry #3" in done.stdout
    done = check(lambda copy: copy["entries"][0].update(pinned=True))  # state that may change is not hashed
    assert done.returncode == 0, done.stdout


def test_a_file_that_is_not_an_export_is_a_usage_error(run_cli, tmp_path):
    for name, content in (("notes.txt", "hello"), ("other.json", '{"format": "something"}'),
                          ("v1.json", '{"format": "warroom-incident", "format_version": 1}'),
                          ("bad.json", json.dumps({"format": "warroom-incident", "format_version": 2,
                                                   "incident": {"id": "INC-1"}, "chain": {"algorithm": "sha256"},
                                                   "entries": [{"number": "one"}]}))):
        path = tmp_path / name
        path.write_text(content)
        done = run_cli("verify", "--export", str(path))
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert done.stderr.startswith("warroom: error: ") and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert "entries[0].occurred_at: expected a string" in done.stderr


async def test_verify_export_reads_what_to_json_dict_writes(service):
    incident = await service.declare("Outage", "SEV-2", author="alice")
    await service.execute(incident.id, "/decision roll back", "alice")
    data = json.loads(json.dumps(to_json_dict(await service.record(incident.id))))
    report = verify_export(data, "x.json")
    assert report.intact and report.head == (await service.verify(incident.id)).head
    data["entries"] = {}
    with pytest.raises(WarroomError, match="x.json: entries: expected a list"):
        verify_export(data, "x.json")
