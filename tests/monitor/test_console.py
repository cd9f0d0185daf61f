"""The PIN gate and keys of the supervisor monitor, on an injected clock."""

from __future__ import annotations

import pytest

from oss.monitor import NO_PIN, SupervisorAction, SupervisorConsole, check_pin, step_level
from oss.records import OssError

from .conftest import PIN, Clock


def typed(console: SupervisorConsole, *keys: str) -> list[SupervisorAction]:
    out: list[SupervisorAction] = []
    for k in keys:
        out += console.key(k)
    return out


def summary(actions: list[SupervisorAction]) -> list[tuple[str, bool]]:
    return [(a.action, a.accepted) for a in actions]


def test_actions_without_the_pin_are_refused_with_a_visible_message() -> None:
    c = SupervisorConsole(PIN, clock=Clock())
    got = typed(c, "S", "R", "L", "PLUS", "H")
    assert summary(got) == [
        ("skip", False),
        ("restart", False),
        ("level", False),
        ("level", False),
        ("answer", False),
    ]
    assert all(a.reason == "locked: type the PIN and press Enter" for a in got)
    assert got[3].level == "more"
    st = c.status()
    assert not st.unlocked and st.warning and st.message.startswith("Refused: locked")


def test_the_right_pin_unlocks_for_two_minutes_then_it_locks_again() -> None:
    clock = Clock()
    c = SupervisorConsole(PIN, clock=clock)
    got = typed(c, "_2", "_4", "NUM_6", "_8")
    assert got == [] and c.status().typed == 4
    (unlock,) = typed(c, "ENTER")
    assert (unlock.action, unlock.accepted, unlock.who) == ("unlock", True, "supervisor")
    assert c.status().unlocked and c.status().typed == 0 and c.status().remaining_s == 120.0
    clock.advance(60.0)
    assert summary(typed(c, "S", "R", "L", "MINUS", "H")) == [
        ("skip", True),
        ("restart", True),
        ("level", True),
        ("level", True),
        ("answer", True),
    ]
    clock.advance(59.9)
    assert c.poll() == [] and c.unlocked()
    clock.advance(0.2)
    (lock,) = c.poll()
    assert (lock.action, lock.reason) == ("lock", "timeout")
    assert c.poll() == []  # once
    (refused,) = typed(c, "S")
    assert not refused.accepted and not c.status().unlocked


def test_wrong_pins_are_refused_counted_and_block_entry_for_a_while() -> None:
    clock = Clock()
    c = SupervisorConsole(PIN, clock=clock, max_tries=3, block_s=30.0)
    (w1,) = typed(c, "_1", "_1", "_1", "_1", "RETURN")
    assert (w1.action, w1.accepted, w1.reason) == ("wrong_pin", False, "wrong PIN (1 of 3)")
    assert c.status().warning and "Wrong PIN" in c.status().message
    (w2,) = typed(c, "_9", "_9", "_9", "_9", "ENTER")
    (w3,) = typed(c, "_0", "_0", "_0", "_0", "ENTER")
    assert w2.reason == "wrong PIN (2 of 3)" and w3.reason.endswith("PIN entry blocked for 30 s")
    (blocked,) = typed(c, "_2", "_4", "_6", "_8", "ENTER")  # even the right PIN waits now
    assert (blocked.action, blocked.accepted) == ("unlock", False) and blocked.reason.startswith("too many")
    assert c.status().blocked_s == 30.0
    clock.advance(31.0)
    (ok,) = typed(c, "_2", "_4", "_6", "_8", "ENTER")
    assert ok.accepted and c.unlocked()


def test_backspace_escape_and_keys_that_mean_nothing() -> None:
    clock = Clock()
    c = SupervisorConsole(PIN, clock=clock)
    assert typed(c, "_2", "_4", "_6", "_9", "BACKSPACE", "_8", "Q", "F1", "ENTER")[0].accepted
    (lock,) = typed(c, "ESCAPE")
    assert (lock.action, lock.reason) == ("lock", "escape") and not c.unlocked()
    assert typed(c, "ESCAPE") == []  # locked already: nothing to log
    assert typed(c, "ENTER") == []  # no digits: no attempt


def test_without_a_pin_every_action_is_refused_saying_where_to_set_one() -> None:
    c = SupervisorConsole(None, clock=Clock())
    (unlock,) = typed(c, "_1", "_2", "_3", "_4", "ENTER")
    assert not unlock.accepted and unlock.reason == NO_PIN
    (skip,) = typed(c, "S")
    assert not skip.accepted and skip.reason == NO_PIN
    assert "OSS_SUPERVISOR_PIN" in NO_PIN and "monitor: {pin:" in NO_PIN
    assert not c.status().has_pin


@pytest.mark.parametrize("pin", ["123", "12a4", "1234567890123", "١٢٣٤"])
def test_a_pin_is_4_to_12_plain_digits(pin: str) -> None:
    with pytest.raises(OssError, match="4 to 12 digits"):
        check_pin(pin)
    assert check_pin("0042") == "0042"


def test_level_moves() -> None:
    assert [step_level(lv, False, "next") for lv in ("full", "reduced", "minimal")] == [
        "reduced",
        "minimal",
        "auto",
    ]
    assert step_level("minimal", True, "next") == "full"  # auto → full
    assert step_level("reduced", True, "more") == "full" and step_level("full", False, "more") == "full"
    assert (
        step_level("reduced", False, "less") == "minimal" and step_level("minimal", True, "less") == "minimal"
    )
    assert step_level("full", False, "auto") == "auto"
    with pytest.raises(ValueError):
        step_level("full", False, "most")
    with pytest.raises(ValueError):
        SupervisorAction("reboot", 0.0)
