"""Packaged policies load and hold the facts of their seeds; broken policy files are reported
with file, line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from warroom.domain.errors import PolicyError
from warroom.domain.policy import (
    DEFAULT_POLICY_ID,
    Policy,
    PolicyBook,
    builtin_policy_dir,
    load_policy_file,
)

SEED_POLICIES = {
    "parsify-severity": "seed 000",
    "p-levels-001": "seed 001",
    "sev-levels-002": "seed 002",
    "p-levels-003": "seed 003",
    "sev-levels-004": "seed 004",
}
PACKAGED_FILES = sorted(builtin_policy_dir().glob("*.toml"))


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return PolicyBook.load()


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def hours(n: int) -> timedelta:
    return timedelta(hours=n)


def days(n: int) -> timedelta:
    return timedelta(days=n)


# --- every packaged file ------------------------------------------------------------------------


def test_all_expected_policies_are_packaged():
    stems = {path.stem for path in PACKAGED_FILES}
    assert {DEFAULT_POLICY_ID, *SEED_POLICIES} <= stems


@pytest.mark.parametrize("path", PACKAGED_FILES, ids=lambda p: p.stem)
def test_packaged_policy_is_well_formed(path: Path):
    policy = load_policy_file(path)
    assert policy.id == path.stem
    assert policy.severity and all(level.response_target >= timedelta(0) for level in policy.severity)
    for level in policy.severity:
        assert level.qualifies, level.id
        level.resolution_target  # noqa: B018 - every duration parses (the property raises on a bad one)
    assert sum(status.resolved for status in policy.status) == 1
    assert policy.find_severity(policy.policy.default_severity) is not None
    assert any(role.required for role in policy.role)
    assert all(role.duties.strip() for role in policy.role)
    assert {"internal", "executive", "public"} <= {audience.id for audience in policy.audience}
    assert policy.postmortem and policy.postmortem[-1].fill == "actions"
    assert policy.checklist and policy.escalation
    # somebody is owed an update at the most severe level, and a review once it is over
    assert any(a.cadence(policy.severity[0].id) or a.first_owed(policy.severity[0].id) for a in policy.audience)
    assert any(duty.kind == "review" and duty.starts == "resolved" for duty in policy.duty)


@pytest.mark.parametrize("policy_id", sorted(SEED_POLICIES))
def test_seed_policy_names_its_source(book: PolicyBook, policy_id: str):
    policy = book.get(policy_id)
    assert policy.policy.source == SEED_POLICIES[policy_id]
    assert policy.playbook


def test_book_loads_every_packaged_file(book: PolicyBook):
    assert {policy.id for policy in book} == {path.stem for path in PACKAGED_FILES}
    assert len(book) == len(PACKAGED_FILES)
    assert next(iter(book)).id == DEFAULT_POLICY_ID


def test_unknown_policy_id_is_a_policy_error(book: PolicyBook):
    with pytest.raises(PolicyError, match="unknown policy 'nope'"):
        book.get("nope")


# --- the default policy -------------------------------------------------------------------------


def test_default_policy_shape(book: PolicyBook):
    policy = book.default
    assert policy.id == "default"
    assert [level.id for level in policy.severity] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    assert [role.id for role in policy.role] == ["ic", "tl", "cl", "scribe"]
    assert {role.id for role in policy.role if role.required} == {"ic", "tl", "cl"}
    assert policy.first_status.id == "investigating"


def test_lookups_are_case_insensitive(book: PolicyBook):
    policy = book.default
    assert policy.find_severity("sev2").id == "SEV-2"
    assert policy.find_severity("SEV2").id == "SEV-2"
    assert policy.find_severity("Critical").id == "SEV-1"
    assert policy.find_severity("sev-4").id == "SEV-4"
    assert policy.find_role("Tech-Lead").id == "tl"
    assert policy.find_role("IC").id == "ic"
    assert policy.find_role("incident_commander").id == "ic"
    assert policy.find_status("IDENTIFIED").id == "identified"
    assert policy.find_severity("sev9") is None
    assert policy.find_role("") is None
    with pytest.raises(KeyError):
        policy.status_by_id("closed")


# --- facts taken from the seeds -----------------------------------------------------------------


def test_seed_000_severity_scheme(book: PolicyBook):
    policy = book.get("parsify-severity")
    sev1 = policy.find_severity("sev1")
    assert sev1.id == "Severity 1"
    assert sev1.response_target == minutes(15)
    assert sev1.resolution_target == hours(1)
    executive = policy.find_audience("executive")
    assert executive.cadence("Severity 1") == minutes(15)  # executive updates
    assert executive.first_owed("Severity 1") is None  # the seed gives no first-update deadline
    assert policy.find_severity("severity 2").resolution_target == hours(4)
    assert executive.cadence("Severity 3") == hours(2)
    sev4 = policy.find_severity("LOW")
    assert (sev4.resolution_target, executive.cadence(sev4.id)) == (hours(72), days(1))
    assert policy.find_role("support lead").id == "sl" and policy.find_role("support lead").required
    assert {p.id for p in policy.playbook} == {"service-outage", "database-performance", "security-incident"}
    assert [s.title for s in policy.postmortem] == [
        "Timeline", "Root cause analysis", "Impact assessment", "Lessons learned", "Action items"]
    assert [g.label for g in policy.action_group] == [
        "Preventive measures", "Process improvements", "System improvements", "Training needs"]
    assert (policy.targets.target("detect"), policy.targets.target("acknowledge")) == (minutes(15), minutes(5))
    assert policy.find_audience("internal").eta  # the channel template ends with an ETA
    assert "engineering@parsify.dev" in {c.reach for c in policy.contact}


def test_seed_001_priority_scheme(book: PolicyBook):
    policy = book.get("p-levels-001")
    p0 = policy.find_severity("p0")
    assert p0.response_target == timedelta(0)
    assert p0.resolution_target == hours(1)
    for audience in policy.audience:  # status page, #incidents and stakeholder email alike
        assert (audience.cadence("P0"), audience.cadence("P1"), audience.cadence("P2")) == (minutes(30), hours(1), None)
    assert policy.find_severity("P1").response_target == minutes(15)
    assert [g.id for g in policy.action_group] == ["immediate", "short-term", "long-term"]
    assert [s.fill for s in policy.postmortem] == ["summary", "timeline", "root_cause", "impact", "actions"]
    assert policy.find_severity("p3").resolution_target == days(14)  # "next sprint"
    assert [status.id for status in policy.status] == ["investigating", "identified", "monitoring", "resolved"]
    assert policy.escalation[0].steps[-1].startswith("CTO")
    assert policy.find_role("On-Call").required


def test_seed_002_sev_scheme(book: PolicyBook):
    policy = book.get("sev-levels-002")
    sev1 = policy.find_severity("sev1")
    internal, public = policy.find_audience("internal"), policy.find_audience("public")
    # the seed's update-frequency table: Initial / During / Resolution
    table = {level: (internal.first_owed(level).within, internal.cadence(level), internal.final_owed(level).within)
             for level in ("SEV-1", "SEV-2", "SEV-3", "SEV-4")}
    assert table == {"SEV-1": (minutes(5), minutes(15), minutes(0)), "SEV-2": (minutes(15), minutes(30), minutes(15)),
                     "SEV-3": (minutes(30), hours(4), hours(1)), "SEV-4": (hours(1), days(1), hours(4))}
    assert [public.first_owed(level) and public.first_owed(level).within for level in table] == [
        minutes(0), minutes(15), hours(1), None]  # SEV-4: optional
    assert public.final == {}  # the seed's status-page table has no resolution row
    assert sev1.resolution_target == hours(1)
    sev2 = policy.find_severity("sev2")
    assert (sev2.response_target, sev2.resolution_target) == (minutes(15), hours(4))
    assert policy.targets.target("detect") == minutes(5)
    assert [status.id for status in policy.status] == ["investigating", "mitigating", "monitoring", "resolved"]
    assert {e.name for e in policy.escalation} == {"Technical", "Business", "External"}


def test_seed_003_priority_scheme(book: PolicyBook):
    policy = book.get("p-levels-003")
    p0 = policy.find_severity("critical")
    internal, public = policy.find_audience("internal"), policy.find_audience("public")
    assert (p0.id, p0.response_target, internal.cadence("P0")) == ("P0", minutes(15), minutes(30))
    p1 = policy.find_severity("p1")
    assert (p1.response_target, internal.cadence("P1"), p1.resolution_target) == (hours(1), hours(2), hours(8))
    assert public.cadence("P1") == hours(1) and public.eta  # "every 30-60 min", with an estimated time
    assert internal.final_owed("P2").within == timedelta(0)  # "Immediate notification"
    assert policy.find_severity("p2").response_target == hours(4)
    assert policy.find_severity("p3").resolution_target == days(7)
    assert policy.find_role("Monitoring Lead").id == "ml"
    assert {p.id for p in policy.playbook} == {
        "service-outage", "performance-degradation", "security-incident", "data-loss",
    }


def test_seed_004_sev_scheme(book: PolicyBook):
    policy = book.get("sev-levels-004")
    assert policy.find_severity("sev1").response_target == minutes(5)
    assert policy.find_severity("sev4").response_target == days(1)  # next business day
    internal = policy.find_audience("internal")
    assert {internal.cadence(level.id) for level in policy.severity} == {minutes(30)} and internal.eta
    assert all(level.resolution is None for level in policy.severity)
    public = policy.find_audience("public")
    assert public.wording["SEV-2"].startswith("Identified - ") and public.wording["SEV-1"].startswith("Investigating - ")
    assert public.final_wording.startswith("Resolved - ")
    assert policy.find_audience("executive").final_owed("SEV-3").within == hours(2)  # stakeholders, resolution
    assert {"database-connection", "high-error-rate", "service-outage", "security-incident"} <= {
        p.id for p in policy.playbook
    }
    assert policy.escalation[0].steps[-1].startswith("CEO")


# --- user policies ------------------------------------------------------------------------------

MINIMAL = """\
[policy]
id = "team"
name = "Team policy"
description = "A small policy for tests."
default_severity = "SEV-2"

[[severity]]
id = "SEV-1"
label = "Critical"
aliases = ["sev1", "critical"]
qualifies = ["Everything is down"]
response = "5m"

[[severity]]
id = "SEV-2"
label = "High"
aliases = ["sev2"]
qualifies = [
    "Something is broken",
    "Users notice",
]
response = "30m"

[[role]]
id = "ic"
name = "Incident Commander"
duties = "Runs the incident."
required = true

[[role]]
id = "tl"
name = "Tech Lead"
duties = "Fixes it."

[[status]]
id = "investigating"
label = "Investigating"

[[status]]
id = "resolved"
label = "Resolved"
resolved = true

[[audience]]
id = "internal"
label = "Internal"
every = { SEV-2 = "1h" }

[[duty]]
id = "boss"
label = "The boss"
within = { SEV-1 = "10m" }
"""


def test_minimal_policy_is_valid(tmp_path: Path):
    path = tmp_path / "team.toml"
    path.write_text(MINIMAL)
    policy = load_policy_file(path)
    assert isinstance(policy, Policy)
    assert policy.find_audience("internal").cadence("SEV-2") == hours(1)


def test_user_policy_adds_and_overrides_by_id(tmp_path: Path):
    (tmp_path / "team.toml").write_text(MINIMAL)
    override = MINIMAL.replace('id = "team"', 'id = "default"').replace("Team policy", "Our default")
    (tmp_path / "zz-mine.toml").write_text(override)
    book = PolicyBook.load(tmp_path)
    assert book.get("team").name == "Team policy"
    assert book.default.name == "Our default"
    assert [level.id for level in book.default.severity] == ["SEV-1", "SEV-2"]
    assert {"default", "team", *SEED_POLICIES} <= {policy.id for policy in book}
    assert len(book) == len(PACKAGED_FILES) + 1


def test_missing_user_dir_is_ignored(tmp_path: Path):
    book = PolicyBook.load(tmp_path / "absent")
    assert len(book) == len(PACKAGED_FILES)


# --- broken files -------------------------------------------------------------------------------


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _line(text: str, fragment: str, occurrence: int = 0) -> int:
    """1-based number of the line holding `fragment` (its `occurrence`-th appearance)."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return found[occurrence]


def _error(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    return path, str(caught.value)


BROKEN = [
    # (case, old, new, fragment locating the expected line, occurrence, field, words in message)
    ("wrong type", 'label = "High"', "label = 5", "label = 5", 0, "severity[1].label", "Expected `str`"),
    ("wrong type in header", 'name = "Team policy"', "name = true", "name = true", 0, "policy.name", "Expected `str`"),
    ("wrong type in array", '"Users notice",', "42,", "qualifies", 1, "severity[1].qualifies[1]", "Expected `str`"),
    ("bad duration", 'response = "30m"', 'response = "soon"', 'response = "soon"', 0,
     "severity[1].response", "not a duration"),
    ("bad cadence", 'every = { SEV-2 = "1h" }', 'every = { SEV-2 = "hourly" }', "every =", 0,
     "audience[0].every", "not a duration"),
    ("zero cadence", 'every = { SEV-2 = "1h" }', 'every = { SEV-2 = "0m" }', "every =", 0,
     "audience[0].every", "longer than zero"),
    ("cadence for an unknown severity", 'every = { SEV-2 = "1h" }', 'every = { SEV-9 = "1h" }', "every =", 0,
     "audience[0].every", "unknown severity 'SEV-9'"),
    ("cadence value not a string", 'every = { SEV-2 = "1h" }', 'every = { SEV-2 = 60 }', "every =", 0,
     "audience[0].every", "Expected `str`"),
    ("bad duty deadline", 'within = { SEV-1 = "10m" }', 'within = { SEV-1 = "soonish" }', "within", 0,
     "duty[0].within", "no deadline"),
    ("duty owed by nobody", 'within = { SEV-1 = "10m" }', "within = {}", "within", 0,
     "duty[0].within", "at least one severity"),
    ("unknown duty start", 'label = "The boss"', 'label = "The boss"\nstarts = "lunch"', "starts", 0,
     "duty[0].starts", "Invalid enum value 'lunch'"),
    ("unknown contact", 'label = "The boss"', 'label = "The boss"\ncontacts = ["cto"]', "contacts", 0,
     "duty[0].contacts", "unknown contact 'cto'"),
    ("bad status-page wording", 'label = "Internal"', 'label = "Internal"\nfinal_wording = "Fixed {thing}"',
     "final_wording", 0, "audience[0].final_wording", "placeholders"),
    ("moved field", 'response = "30m"', 'response = "30m"\nupdate_every = "1h"', "update_every", 0,
     "severity[1].update_every", "[[audience]] every"),
    ("bad target", "[policy]", '[targets]\ndetect = "fast"\n\n[policy]', "detect", 0,
     "targets.detect", "not a duration"),
    ("unknown field", 'label = "High"', 'label = "High"\ncolour = "red"', "colour", 0,
     "severity[1].colour", "unknown field `colour`"),
    ("unknown field in header", 'name = "Team policy"', 'name = "Team policy"\nowner = "me"', "owner", 0,
     "policy.owner", "unknown field `owner`"),
    ("unknown top-level field", "[policy]", 'version = 2\n\n[policy]', "version = 2", 0,
     "version", "unknown field `version`"),
    ("unknown table", "[[status]]\nid = \"investigating\"", "[[stage]]\nid = \"investigating\"", "[[stage]]", 0,
     "stage", "unknown field `stage`"),
    ("missing required field", 'name = "Tech Lead"\n', "", "[[role]]", 1, "role[1].name", "missing required field `name`"),
    ("duplicate alias", 'aliases = ["sev2"]', 'aliases = ["sev2", "critical"]', 'aliases = ["sev2"', 0,
     "severity[1].aliases", "'critical' is used by two severity entries"),
    ("duplicate role name", 'name = "Tech Lead"', 'name = "Incident Commander"', 'name = "Incident Commander"', 1,
     "role[1].name", "'Incident Commander' is used by two role entries"),
    ("default severity unknown", 'default_severity = "SEV-2"', 'default_severity = "SEV-9"', "default_severity", 0,
     "policy.default_severity", "unknown severity 'SEV-9'"),
    ("no resolved status", "resolved = true\n", "", "[[status]]", 0, "status", "resolved = true"),
]


@pytest.mark.parametrize(
    ("old", "new", "fragment", "occurrence", "field", "words"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_file_names_file_line_and_field(tmp_path, old, new, fragment, occurrence, field, words):
    text = _edit(MINIMAL, old, new)
    path, message = _error(tmp_path, text)
    line = _line(text, fragment, occurrence)
    assert message.startswith(f"{path}:{line}: field {field}: "), message
    assert words in message


def test_missing_required_table_names_file_and_field(tmp_path):
    text = MINIMAL.split("[[severity]]")[0]
    path, message = _error(tmp_path, text)
    assert message.startswith(f"{path}: field severity: "), message
    assert "missing required field `severity`" in message


def test_bad_toml_syntax_names_file_and_line(tmp_path):
    text = _edit(MINIMAL, 'label = "High"', 'label = "High')
    path, message = _error(tmp_path, text)
    line = _line(text, 'label = "High')
    assert message.startswith(f"{path}:{line}: invalid TOML"), message
    assert f"line {line}," in message


def test_broken_user_policy_stops_the_book_with_its_file_name(tmp_path):
    (tmp_path / "team.toml").write_text(_edit(MINIMAL, 'response = "5m"', 'response = "5 minutes"'))
    with pytest.raises(PolicyError) as caught:
        PolicyBook.load(tmp_path)
    message = str(caught.value)
    line = _line(MINIMAL, 'response = "5m"')
    assert message.startswith(f"{tmp_path / 'team.toml'}:{line}: field severity[0].response: "), message


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(MINIMAL.replace("Runs", "L\xe4uft").encode("latin-1"))
    with pytest.raises(PolicyError, match="latin.toml: cannot read policy file"):
        load_policy_file(path)


def test_the_readme_examples_are_a_valid_policy():
    """The annotated examples in README's Policies section parse as written (with the tables they
    leave out), so the documentation cannot drift from the schema."""
    import re

    from warroom.domain.policy import parse_policy

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Policies\n")[1].split("## Configuration\n")[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    rest = '''
[policy]
id = "readme"
name = "README example"
description = "The README's example."
default_severity = "SEV-1"

[[severity]]
id = "SEV-2"
label = "High"
qualifies = ["Part of the service is down"]
response = "15m"

[[role]]
id = "ic"
name = "Incident Commander"
duties = "Runs it."

[[status]]
id = "resolved"
label = "Resolved"
resolved = true
'''
    policy = parse_policy(blocks[0] + blocks[1] + rest, "README.md")
    assert [duty.id for duty in policy.duty] == ["executives", "management-4h", "postmortem"]
    assert policy.find_audience("internal").cadence("SEV-2") == minutes(30)
    assert policy.postmortem[0].fill == "impact" and policy.find_action_group("long").id == "long-term"


def test_audience_ids_read_only_the_policies_they_need():
    from warroom.domain.policy import DEFAULT_POLICY_ID, PolicyBook

    book = PolicyBook.load(None)
    packaged = len(book._unread)
    assert book.audience_ids({"internal", "public"}) >= {"internal", "public"}
    assert len(book._unread) == packaged - 1 and DEFAULT_POLICY_ID not in book._unread  # the default's were enough
    everything = {audience.id for policy in PolicyBook.load(None) for audience in policy.audience}
    assert book.audience_ids({"nobody"}) == everything and not book._unread  # missing: all read, all named
