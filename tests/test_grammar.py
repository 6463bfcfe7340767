"""The entry-bar grammar: examples for every command and error, plus property tests."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import NOW

from warroom.domain.commands import (
    AddAction,
    AddEntry,
    AddProbe,
    AssignRole,
    ChangeServices,
    Command,
    CorrectEntry,
    Handoff,
    PinEntry,
    PostUpdate,
    SetFact,
    SetMilestone,
    SetSeverity,
    SetStatus,
)
from warroom.domain.completion import complete
from warroom.domain.errors import ParseError
from warroom.domain.grammar import COMMANDS, CommandSpec, parse
from warroom.domain.models import EntryKind, Milestone
from warroom.domain.policy import PolicyBook

UTC = timezone.utc
POLICY = PolicyBook.load().default


def p(text: str, now: datetime = NOW) -> Command:
    return parse(text, POLICY, now)


def error(text: str, now: datetime = NOW) -> str:
    with pytest.raises(ParseError) as caught:
        parse(text, POLICY, now)
    return str(caught.value)


# --- notes and text entries ----------------------------------------------------------------------


def test_plain_text_is_a_note_stripped_but_otherwise_as_typed():
    assert p("  db  is   slow  ") == AddEntry(kind=EntryKind.NOTE, text="db  is   slow")


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_input_is_an_error(text):
    assert "nothing to record" in error(text)


def test_double_slash_escapes_a_leading_slash():
    assert p("//var/log is full") == AddEntry(kind=EntryKind.NOTE, text="/var/log is full")
    assert p("//") == AddEntry(kind=EntryKind.NOTE, text="/")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("/note rollback started", EntryKind.NOTE),
        ("/decision roll back v42", EntryKind.DECISION),
        ("/d roll back v42", EntryKind.DECISION),
        ("/rootcause bad config push", EntryKind.ROOT_CAUSE),
        ("/lesson canary the config", EntryKind.LESSON),
    ],
)
def test_text_entry_commands(text, kind):
    command = p(text)
    assert isinstance(command, AddEntry)
    assert command.kind is kind
    assert command.text == text.split(" ", 1)[1]


def test_command_names_are_case_insensitive_and_text_keeps_its_case():
    assert p("/DECISION Roll Back  NOW") == AddEntry(kind=EntryKind.DECISION, text="Roll Back  NOW")
    assert p("/D x") == AddEntry(kind=EntryKind.DECISION, text="x")


@pytest.mark.parametrize("name", ["note", "decision", "d", "rootcause", "lesson"])
def test_text_entry_commands_need_text(name):
    message = error(f"/{name}   ")
    assert "usage: /" in message and "TEXT" in message


def test_multiline_text_is_kept():
    assert p("/note line one\nline two") == AddEntry(text="line one\nline two")


# --- severity ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "severity_id", "reason"),
    [
        ("/sev 1", "SEV-1", ""),
        ("/sev SEV-2", "SEV-2", ""),
        ("/sev sev-2", "SEV-2", ""),
        ("/severity sev2 because checkout is down", "SEV-2", "because checkout is down"),
        ("/sev critical", "SEV-1", ""),
        ("/SEV Low cosmetic only", "SEV-4", "cosmetic only"),
        ("/sev sev 3 few users", "SEV-3", "few users"),
        ('/sev "SEV-3" few users', "SEV-3", "few users"),
    ],
)
def test_set_severity(text, severity_id, reason):
    assert p(text) == SetSeverity(severity_id=severity_id, reason=reason)


def test_unknown_severity_lists_the_valid_ones():
    assert error("/sev SEV-9") == "unknown severity 'SEV-9'; valid: SEV-1, SEV-2, SEV-3, SEV-4"


def test_severity_needs_a_level():
    assert error("/sev") == "usage: /sev LEVEL [reason]"


# --- status --------------------------------------------------------------------------------------


def test_set_status_with_and_without_note():
    assert p("/status identified") == SetStatus(status_id="identified")
    assert p("/status Identified bad deploy found") == SetStatus(
        status_id="identified", note="bad deploy found"
    )
    assert p('/status "monitoring" watching errors') == SetStatus(
        status_id="monitoring", note="watching errors"
    )


def test_unknown_status_lists_the_valid_ones():
    message = error("/status fixed")
    assert message.startswith("unknown status 'fixed'; valid: investigating, identified")


def test_status_needs_a_status():
    assert "usage: /status STATUS" in error("/status")


def test_unclosed_quote_is_an_error():
    assert "unclosed quote" in error('/status "monitoring')


# --- roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "role_id", "person"),
    [
        ("/assign ic alice", "ic", "alice"),
        ("/assign IC @alice", "ic", "alice"),
        ('/assign "tech lead" bob', "tl", "bob"),
        ("/assign 'Tech Lead' bob", "tl", "bob"),
        ("/assign tech-lead bob", "tl", "bob"),
        ("/assign tech lead bob", "tl", "bob"),
        ("/assign Incident Commander Alice Smith", "ic", "Alice Smith"),
        ("/assign communications lead carol", "cl", "carol"),
        ("/assign scribe dan", "scribe", "dan"),
        ('/assign comms "Erin O\'Neil"', "cl", "Erin O'Neil"),
    ],
)
def test_assign_role(text, role_id, person):
    assert p(text) == AssignRole(role_id=role_id, person=person)


def test_handoff():
    assert p("/handoff ic @bob") == Handoff(role_id="ic", person="bob")
    assert p("/handoff tech lead carol") == Handoff(role_id="tl", person="carol")


def test_unknown_role_lists_the_roles():
    message = error("/assign dev bob")
    assert message.startswith("unknown role 'dev'; valid: ic (Incident Commander), tl (Tech Lead)")
    assert "unknown role 'developer'" in error('/handoff "developer" bob')


@pytest.mark.parametrize("text", ["/assign", "/assign ic", "/assign tech lead", "/handoff ic @"])
def test_role_commands_need_role_and_person(text):
    assert "usage: /" in error(text) and "ROLE PERSON" in error(text)


# --- actions -------------------------------------------------------------------------------------


def test_action_with_owner_and_relative_due():
    assert p("/action add an alert on queue depth @alice due:2h") == AddAction(
        text="add an alert on queue depth", owner="alice", due=NOW + timedelta(hours=2)
    )


def test_action_without_owner_or_due():
    assert p("/action write the postmortem") == AddAction(text="write the postmortem")


def test_action_owner_anywhere_and_the_last_one_wins():
    command = p("/action ask @bob to  page   @carol due:3d")
    assert command == AddAction(
        text="ask @bob to  page", owner="carol", due=NOW + timedelta(days=3)
    )
    assert p("/action @dan  rotate keys").text == "rotate keys"


def test_action_trailing_punctuation_is_not_an_owner():
    assert p("/action thank @bob.").owner is None


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=UTC)),
        ("2026-11-30T09:30", datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),
        ("16:30", datetime(2026, 11, 23, 16, 30, tzinfo=UTC)),
        ("09:00", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),  # already past: tomorrow
        ("15:00", NOW),
        ("1h30m", NOW + timedelta(minutes=90)),
        ("1d", NOW + timedelta(days=1)),
    ],
)
def test_action_due_forms(due, expected):
    assert p(f"/action fix it due:{due}").due == expected


@pytest.mark.parametrize("due", ["friday", "", "2026-13-01", "25:00", "2026-02-30T10:00", "5"])
def test_action_bad_due_is_an_error(due):
    message = error(f"/action fix it due:{due}")
    assert f"'{due}'" in message or f"due:{due}" in message


def test_action_errors():
    assert "usage: /action TEXT [@owner] [due:WHEN]" in error("/action")
    assert "needs a description" in error("/action @bob due:1h")
    assert "at most one due" in error("/action x due:1h due:2h")


# --- milestones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "milestone"),
    [
        ("ack", Milestone.ACKNOWLEDGED),
        ("acknowledged", Milestone.ACKNOWLEDGED),
        ("detected", Milestone.DETECTED),
        ("mitigated", Milestone.MITIGATED),
        ("resolve", Milestone.RESOLVED),
        ("resolved", Milestone.RESOLVED),
        ("close", Milestone.CLOSED),
        ("impact", Milestone.IMPACT_STARTED),
    ],
)
def test_milestones(name, milestone):
    assert p(f"/{name}") == SetMilestone(milestone=milestone)
    assert p(f"/{name.upper()}  error rate back to normal ") == SetMilestone(
        milestone=milestone, note="error rate back to normal"
    )


# --- pins and corrections ------------------------------------------------------------------------


def test_pin_and_unpin():
    assert p("/pin 12") == PinEntry(number=12, pinned=True)
    assert p("/pin #12") == PinEntry(number=12, pinned=True)
    assert p("/unpin #3") == PinEntry(number=3, pinned=False)


@pytest.mark.parametrize("text", ["/pin", "/pin x", "/pin #", "/pin 0", "/unpin -1", "/pin 3 4"])
def test_pin_errors(text):
    assert "usage: /" in error(text)


def test_correct():
    assert p("/correct #7 rollback was at 14:05") == CorrectEntry(number=7, text="rollback was at 14:05")
    assert "corrected text" in error("/correct 7")
    assert "entry number" in error("/correct seven text")
    assert "usage: /correct N TEXT" in error("/correct")


# --- updates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "audience", "body"),
    [
        ("/update checkout is degraded", "internal", "checkout is degraded"),
        ("/update internal checkout is degraded", "internal", "checkout is degraded"),
        ("/update exec checkout is degraded", "executive", "checkout is degraded"),
        ("/update Executive checkout is degraded", "executive", "checkout is degraded"),
        ("/update public checkout is degraded", "public", "checkout is degraded"),
        ('/update "status page" checkout is degraded', "public", "checkout is degraded"),
        ('/update "checkout" is degraded', "internal", '"checkout" is degraded'),
        ('/update "unclosed quote', "internal", '"unclosed quote'),
        ("/update exe is a short word", "internal", "exe is a short word"),
    ],
)
def test_update(text, audience, body):
    assert p(text) == PostUpdate(text=body, audience=audience)


def test_update_needs_text():
    assert "usage: /update [AUDIENCE] TEXT" in error("/update")
    assert "no text" in error("/update public")


# --- probes --------------------------------------------------------------------------------------


def test_probe_add():
    assert p("/probe add api https://api.example.com/health") == AddProbe(
        name="api", url="https://api.example.com/health"
    )
    assert p('/probe ADD "web front" HTTP://example.com') == AddProbe(
        name="web front", url="HTTP://example.com"
    )


@pytest.mark.parametrize(
    "text",
    ["/probe", "/probe add", "/probe add api", "/probe remove api http://x", "/probe add a http://x y"],
)
def test_probe_usage_errors(text):
    assert "usage: /probe add NAME URL" in error(text)


def test_probe_url_must_be_http():
    assert "must start with http:// or https://" in error("/probe add api ftp://example.com")
    assert "must start with http:// or https://" in error("/probe add api https://")


# --- unknown commands ----------------------------------------------------------------------------


def test_unknown_command_suggests_close_matches():
    message = error("/decison use the replica")
    assert message.startswith("unknown command '/decison'; did you mean /decision")
    assert "/help" in message


def test_unknown_command_without_close_match_points_at_help_and_escape():
    message = error("/xyzzy")
    assert "unknown command '/xyzzy'" in message and "/help" in message and "//" in message


def test_bare_slash_is_an_error():
    assert "command name after '/'" in error("/")
    assert "command name after '/'" in error("/ something")


# --- back-dating ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "moment"),
    [
        ("-5m", NOW - timedelta(minutes=5)),
        ("-1h30m", NOW - timedelta(minutes=90)),
        ("-2d", NOW - timedelta(days=2)),
        ("-45s", NOW - timedelta(seconds=45)),
        ("@14:02", datetime(2026, 11, 23, 14, 2, tzinfo=UTC)),
        ("@9:05", datetime(2026, 11, 23, 9, 5, tzinfo=UTC)),
        ("@14:02:30", datetime(2026, 11, 23, 14, 2, 30, tzinfo=UTC)),
        ("@15:00", NOW),
        ("@16:00", datetime(2026, 11, 22, 16, 0, tzinfo=UTC)),  # later today: yesterday
        ("@2026-11-20T14:02", datetime(2026, 11, 20, 14, 2, tzinfo=UTC)),
        ("@2026-11-20T14:02:09", datetime(2026, 11, 20, 14, 2, 9, tzinfo=UTC)),
    ],
)
def test_backdating_a_note(prefix, moment):
    assert p(f"{prefix}  db failover started") == AddEntry(
        occurred_at=moment, kind=EntryKind.NOTE, text="db failover started"
    )


def test_backdating_any_command():
    moment = NOW - timedelta(minutes=90)
    assert p("-1h30m /decision fail over") == AddEntry(
        occurred_at=moment, kind=EntryKind.DECISION, text="fail over"
    )
    assert p("@14:02 /sev 1 total outage") == SetSeverity(
        occurred_at=datetime(2026, 11, 23, 14, 2, tzinfo=UTC), severity_id="SEV-1", reason="total outage"
    )
    assert p("-10m /ack").occurred_at == NOW - timedelta(minutes=10)
    assert p("-10m //tmp filled").text == "/tmp filled"


def test_backdating_wraps_past_midnight():
    just_after_midnight = datetime(2026, 11, 23, 0, 10, tzinfo=UTC)
    assert p("@23:50 alerts fired", just_after_midnight).occurred_at == datetime(
        2026, 11, 22, 23, 50, tzinfo=UTC
    )
    assert p("@00:05 paged", just_after_midnight).occurred_at == datetime(2026, 11, 23, 0, 5, tzinfo=UTC)
    assert p("-30m paged", just_after_midnight).occurred_at == datetime(2026, 11, 22, 23, 40, tzinfo=UTC)


def test_backdating_handles_a_non_utc_now():
    later_in_tokyo = NOW.astimezone(timezone(timedelta(hours=9)))  # 2026-11-24 00:00 +09:00
    assert p("@14:00 x", later_in_tokyo).occurred_at == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["-5m", "  -5m  ", "@14:02", "@2026-11-20T14:02"])
def test_backdating_needs_something_after_it(text):
    assert "nothing after" in error(text)


def test_backdating_errors():
    assert "in the future" in error("@2026-11-23T15:01 too early")
    assert "not a valid time" in error("@25:00 x")
    assert "not a valid time" in error("@14:60 x")
    assert "not a valid date" in error("@2026-02-30T10:00 x")
    assert "too far" in error("-999999999d x")


@pytest.mark.parametrize(
    "text",
    [
        "-5 people affected",
        "- item one",
        "-",
        "-5min ago the db died",
        "-30m1h odd order",
        "@alice said it's the cache",
        "@ 14:02",
        "@14 o'clock",
        "@14:2 x",
        "@2026-11-20 14:02 x",
        "-5m, roughly",
    ],
)
def test_text_that_is_not_a_time_stays_a_note(text):
    assert p(text) == AddEntry(kind=EntryKind.NOTE, text=text)


# --- command specs and completion ----------------------------------------------------------------


def test_command_specs_are_unique_and_all_parse():
    names = [name for spec in COMMANDS for name in spec.names]
    assert len(names) == len(set(names))
    assert all(isinstance(spec, CommandSpec) and spec.help and spec.usage.startswith("/") for spec in COMMANDS)
    samples = {"N": "3", "ROLE": "ic", "PERSON": "bob", "LEVEL": "1", "STATUS": "identified"}
    for spec in COMMANDS:
        words = [samples.get(word, "x") for word in spec.synopsis.replace("[", "").replace("]", "").split()]
        if spec.name == "probe":
            words = ["add", "api", "https://example.com"]
        if spec.name in ("set", "service"):
            words = ["impact" if spec.name == "set" else "add", "x"]
        for name in spec.names:
            assert isinstance(p(f"/{name} {' '.join(words)}"), Command)


def test_complete_command_names():
    assert complete("/a", POLICY) == ["/action ", "/assign ", "/ack "]
    assert complete("/acknow", POLICY) == ["/acknowledged "]
    assert complete("/RES", POLICY) == ["/resolve "]
    assert len(complete("/", POLICY)) == len(COMMANDS)
    assert complete("/zzz", POLICY) == []


@pytest.mark.parametrize(("typed", "command"), [
    ("/set impact EU checkout fails for a third of users", SetFact(fact="impact", text="EU checkout fails for a third of users")),
    ("/set users 12% of EU customers", SetFact(fact="customer_impact", text="12% of EU customers")),
    ("/set Customers about 2,300 orders", SetFact(fact="customer_impact", text="about 2,300 orders")),
    ("/set title Checkout down in the EU", SetFact(fact="title", text="Checkout down in the EU")),
    ("/title Checkout down", SetFact(fact="title", text="Checkout down")),
    ("/service add checkout-api, payments eu-edge", ChangeServices(add=("checkout-api", "payments", "eu-edge"))),
    ("/services remove eu-edge", ChangeServices(remove=("eu-edge",))),
    ("/factor no timeout under 30 s", AddEntry(kind=EntryKind.FACTOR, text="no timeout under 30 s")),
    ("/went-well the rollback took 2 minutes", AddEntry(kind=EntryKind.WENT_WELL, text="the rollback took 2 minutes")),
    ("/badly paging took 10 minutes", AddEntry(kind=EntryKind.WENT_BADLY, text="paging took 10 minutes")),
])
def test_facts_and_review_material(typed, command):
    assert p(typed) == command


@pytest.mark.parametrize(("typed", "says"), [
    ("/set", "usage: /set"), ("/set colour red", "unknown fact 'colour'"), ("/set impact", "give the impact"),
    ("/service checkout", "expected add or remove"), ("/service add", "usage: /service"),
])
def test_fact_mistakes_say_what_is_expected(typed, says):
    with pytest.raises(ParseError, match=re.escape(says)):
        p(typed)


def test_complete_update_audiences():
    assert complete("/update e", POLICY) == ["/update executive "]
    assert complete("/update Status", POLICY) == ["/update public "]  # by label too
    assert complete("/update all good", POLICY) == []


def test_complete_roles():
    assert complete("/assign t", POLICY) == [
        "/assign tl ",
        "/assign Tech Lead ",
        "/assign technical lead ",
        "/assign tech-lead ",
    ]
    assert complete("/handoff sc", POLICY) == ["/handoff scribe "]
    assert complete("/assign comm", POLICY) == [
        "/assign commander ",
        "/assign Comms Lead ",
        "/assign communications lead ",
        "/assign comms ",
    ]
    assert complete('/assign "tech l', POLICY) == ['/assign "Tech Lead" ']
    assert complete("/assign tl bo", POLICY) == []


def test_complete_severity_and_status():
    assert complete("/sev ", POLICY) == ["/sev SEV-1 ", "/sev SEV-2 ", "/sev SEV-3 ", "/sev SEV-4 "]
    assert complete("/severity crit", POLICY) == ["/severity SEV-1 "]
    assert complete("/sev 2", POLICY) == ["/sev SEV-2 "]
    assert complete("/status i", POLICY) == ["/status investigating ", "/status identified "]
    assert complete("/status MON", POLICY) == ["/status monitoring "]


def test_complete_keeps_what_was_typed_before_the_fragment():
    assert complete("-5m /as", POLICY) == ["-5m /assign "]
    assert complete("@14:02 /sev c", POLICY) == ["@14:02 /sev SEV-1 "]
    assert complete("  /Assign   s", POLICY) == ["  /Assign   scribe "]


@pytest.mark.parametrize("text", ["", "hello", "//no", "/note t", "/unknown x", "-5m"])
def test_complete_offers_nothing_elsewhere(text):
    assert complete(text, POLICY) == []


def test_completions_parse():
    for completion in complete("/assign ", POLICY) + complete("/handoff ", POLICY):
        assert isinstance(p(completion + "bob"), (AssignRole, Handoff))
    for completion in complete("/sev ", POLICY) + complete("/status ", POLICY):
        assert isinstance(p(completion), (SetSeverity, SetStatus))


# --- properties ----------------------------------------------------------------------------------

PREFIXES = [f"/{name}" for spec in COMMANDS for name in spec.names] + [
    "/", "//", "-", "-5m", "-1h30m", "@", "@14:02", "@23:59:59", "@2026-11-20T14:02", "#",
    "/sev sev", "/assign tech", "/action x due:", "/probe add", "/update exec", '"', "'",
]  # fmt: skip
WORDS = st.sampled_from(
    ["ic", "tl", "tech", "lead", "SEV-1", "2", "@bob", "due:2h", "due:12:00", "#3", '"', "'",
     "http://x", "identified", "exec", "add", "-5m", "@14:02", "0", "99999999999999999999d"]
)  # fmt: skip
SUFFIX = st.one_of(
    st.text(max_size=40),
    st.lists(WORDS, max_size=6).map(" ".join),
    st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=5).map(" ".join),
)


def _parses_or_parse_error(text: str, now: datetime = NOW) -> None:
    try:
        command = parse(text, POLICY, now)
    except ParseError as problem:
        assert str(problem)
        return
    assert isinstance(command, Command)
    assert command.occurred_at is None or command.occurred_at <= now


@settings(max_examples=500)
@given(st.text())
def test_parse_any_text_raises_only_parse_error(text):
    _parses_or_parse_error(text)


@settings(max_examples=1000)
@given(st.sampled_from(PREFIXES), st.sampled_from(["", " ", "  ", "\t"]), SUFFIX)
def test_parse_command_like_text_raises_only_parse_error(prefix, gap, suffix):
    _parses_or_parse_error(prefix + gap + suffix)


@given(
    st.sampled_from(PREFIXES),
    SUFFIX,
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_parse_at_any_moment_raises_only_parse_error(prefix, suffix, now):
    _parses_or_parse_error(f"{prefix} {suffix}", now)


@given(st.text(min_size=1).filter(lambda t: t.strip() and t.strip()[0] not in "/-@"))
def test_plain_text_is_always_a_note(text):
    assert p(text) == AddEntry(kind=EntryKind.NOTE, text=text.strip())


@given(st.text().filter(lambda t: t.strip()))
def test_escaped_text_is_a_note_starting_with_slash(text):
    assert p("//" + text.lstrip()) == AddEntry(kind=EntryKind.NOTE, text="/" + text.strip())


@given(st.text(max_size=30))
def test_complete_never_raises_and_extends_input(text):
    for completion in complete(text, POLICY):
        assert completion.endswith(" ")
