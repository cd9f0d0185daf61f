"""Operator profiles: the file, its checks, and the supervisor's 'oss operators' command."""

from __future__ import annotations

from pathlib import Path

import pytest

from oss.cli import main
from oss.instructions.yamlnodes import FileProblems
from oss.operator.profile import OperatorProfile, ProfileBook, default_profiles_path
from oss.records import OssError

FILE = """format: 1
operators:
  anna:
    name: Anna de Vries
    badge: 0004521987
    language: nl
    text_size: large
    volume: 0.8
    speech: true
    palette: colorblind
    hand: left
    level: auto
  bob: {name: Bob, level: reduced, sound: false}
"""


def test_profiles_file_is_read_with_every_setting(tmp_path: Path) -> None:
    p = tmp_path / "profiles.yaml"
    p.write_text(FILE)
    book = ProfileBook.load(p)
    anna, bob = book.profiles
    assert anna == OperatorProfile(
        "anna",
        "Anna de Vries",
        None,
        "0004521987",
        "nl",
        "large",
        True,
        0.8,
        True,
        "colorblind",
        "left",
        "auto",
    )
    assert anna.text_scale == 1.25 and bob.level == "reduced" and not bob.sound
    assert book.by_badge(" 0004521987\n") is anna and book.by_badge("123") is None
    # a round trip keeps everything
    book.save(tmp_path / "copy.yaml")
    assert ProfileBook.load(tmp_path / "copy.yaml").profiles == book.profiles


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "profiles.yaml"
    p.write_text(
        FILE.replace("hand: left", "hand: both")
        .replace("volume: 0.8", "volume: 3")
        .replace("bob: {name: Bob", "bob: {name: Bob, colour: red")
    )
    with pytest.raises(FileProblems) as e:
        ProfileBook.load(p)
    lines = {(pr.pos.line, pr.message.split(" ")[0]) for pr in e.value.problems}
    assert (11, "hand") in lines and (8, "volume") in lines
    assert any("unknown key 'colour'" in pr.message and pr.pos.line == 13 for pr in e.value.problems)


def test_a_badge_belongs_to_one_person(tmp_path: Path) -> None:
    p = tmp_path / "profiles.yaml"
    p.write_text(FILE.replace("bob: {name: Bob", "bob: {name: Bob, badge: '0004521987'"))
    with pytest.raises(FileProblems, match="badge 0004521987 is given to 'anna' and 'bob'"):
        ProfileBook.load(p)
    book = ProfileBook((OperatorProfile("anna", badge="1"),))
    with pytest.raises(OssError, match="already belongs to 'anna'"):
        book.with_profile(OperatorProfile("bob", badge="1"))


def test_a_missing_file_is_an_empty_book_and_bad_values_are_refused(tmp_path: Path) -> None:
    assert len(ProfileBook.load(tmp_path / "none.yaml")) == 0
    with pytest.raises(OssError, match="volume must be between 0 and 1"):
        OperatorProfile("x", volume=1.5)
    assert default_profiles_path(tmp_path / "out" / "station.sqlite") == tmp_path / "out" / "profiles.yaml"


def test_supervisor_adds_edits_and_lists_operators(tmp_path: Path, capsys) -> None:
    f = str(tmp_path / "profiles.yaml")
    assert (
        main(
            ["operators", "--profiles", f, "add", "anna", "--name", "Anna", "--badge", "42", "--hand", "left"]
        )
        == 0
    )
    assert main(["operators", "--profiles", f, "add", "bob", "--name", "Bob", "--palette", "colorblind"]) == 0
    assert (
        main(
            [
                "operators",
                "--profiles",
                f,
                "edit",
                "anna",
                "--level",
                "minimal",
                "--speech",
                "on",
                "--volume",
                "0.3",
            ]
        )
        == 0
    )
    assert main(["operators", "--profiles", f, "edit", "bob", "--active", "off"]) == 0
    book = ProfileBook.load(f)
    anna = book.get("anna")
    assert anna is not None and (anna.level, anna.speech, anna.volume, anna.hand, anna.badge) == (
        "minimal",
        True,
        0.3,
        "left",
        "42",
    )
    assert [p.id for p in book.active] == ["anna"]
    capsys.readouterr()
    assert main(["operators", "--profiles", f, "list"]) == 0
    out = capsys.readouterr().out
    assert "anna" in out and "bob (inactive)" in out and "colorblind" in out
    assert main(["operators", "--profiles", f, "add", "anna", "--name", "Again"]) == 1
    assert main(["operators", "--profiles", f, "edit", "carl", "--level", "full"]) == 1
    assert main(["operators", "--profiles", f, "edit", "anna", "--volume", "7"]) == 1
    assert "volume must be between 0 and 1" in capsys.readouterr().err


def test_list_shows_the_automatic_level_from_the_log(tmp_path: Path, capsys, sample_instruction) -> None:
    from oss.log.store import EventStore
    from oss.records import LogEvent

    log = tmp_path / "station.sqlite"
    with EventStore(log, "st") as store:
        sid = store.open_session("anna", sample_instruction, "w40")
        data = (("mode", "auto"), ("level", "reduced"), ("changed", True), ("previous", "full"))
        store.append(sid, LogEvent("level", 1.0, "2025-01-01T00:00:00.000+00:00", "", 3, data))
    assert main(["operators", "--log", str(log), "add", "anna", "--name", "Anna"]) == 0
    assert (tmp_path / "profiles.yaml").is_file()
    capsys.readouterr()
    assert main(["operators", "--log", str(log), "list"]) == 0
    assert "auto (reduced for sl40-street-light)" in capsys.readouterr().out
