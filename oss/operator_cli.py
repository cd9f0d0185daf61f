"""``oss operators list|add|edit``: the supervisor's tool for operator profiles (``profiles.yaml``).

The profiles file is found from ``--profiles FILE``, else next to the event log of ``--station FILE``
(or of the default station: ``out/profiles.yaml``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from oss.records import OssError

YES_NO = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}


def add_commands(
    sub: argparse._SubParsersAction, commands: dict[str, Callable[[argparse.Namespace], int]]
) -> None:
    from oss.operator.adaptive import LEVEL_SETTINGS
    from oss.operator.profile import HANDS, PALETTES, TEXT_SIZES

    p = sub.add_parser(
        "operators",
        help="list, add and edit operator profiles (sign-in, language, text size, sound, level)",
        description="Operator profiles of a station. See docs/operator.md.",
    )
    p.add_argument("--profiles", metavar="FILE", help="the profiles file (default: beside the station's log)")
    p.add_argument("--station", metavar="FILE", help="station file: its log's folder holds profiles.yaml")
    p.add_argument("--log", metavar="FILE", help="the station's event log, for the levels 'list' shows")
    osub = p.add_subparsers(dest="operators_command", metavar="ACTION", required=True)
    osub.add_parser("list", help="show every operator, with their guidance level from the log")

    def settings(q: argparse.ArgumentParser, new: bool) -> None:
        q.add_argument("id", help="the operator's id (letters, digits, _ and -), used in the log")
        q.add_argument("--name", required=new, help="the name shown on the sign-in screen")
        q.add_argument("--photo", metavar="FILE", help="a photo, relative to the profiles file")
        q.add_argument("--badge", help="the code the badge reader types")
        q.add_argument("--language", help="language code, like en or nl (default: the instruction's)")
        q.add_argument("--text-size", choices=tuple(TEXT_SIZES))
        q.add_argument("--sound", choices=tuple(YES_NO), help="sounds on or off")
        q.add_argument("--volume", type=float, help="sound volume 0..1")
        q.add_argument("--speech", choices=tuple(YES_NO), help="read the step text aloud (needs espeak-ng)")
        q.add_argument("--palette", choices=PALETTES, help="colorblind: blue for go, vermillion for wrong")
        q.add_argument("--hand", choices=HANDS, help="the working hand")
        q.add_argument("--level", choices=LEVEL_SETTINGS, help="guidance level, or auto (from the log)")
        if not new:
            q.add_argument("--active", choices=tuple(YES_NO), help="off: hide from the sign-in screen")

    settings(osub.add_parser("add", help="add an operator"), new=True)
    settings(osub.add_parser("edit", help="change an operator's settings"), new=False)
    commands["operators"] = operators_command


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """The profiles file and the event log it sits beside."""
    from oss.config import StationConfig, load_station_config
    from oss.operator.profile import default_profiles_path

    cfg = load_station_config(args.station) if args.station else StationConfig()
    log = Path(args.log) if args.log else Path(cfg.log)
    profiles = Path(args.profiles) if args.profiles else default_profiles_path(log)
    return profiles, log


def _changes(args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    for key in ("name", "photo", "badge", "language", "text_size", "palette", "hand", "level", "volume"):
        v = getattr(args, key, None)
        if v is not None:
            out[key] = v
    for key in ("sound", "speech", "active"):
        v = getattr(args, key, None)
        if v is not None:
            out[key] = YES_NO[v]
    return out


def operators_command(args: argparse.Namespace) -> int:
    from oss.operator.profile import OperatorProfile, ProfileBook

    path, log_path = _paths(args)
    book = ProfileBook.load(path)
    if args.operators_command == "list":
        _list(book, log_path)
        return 0
    changes = _changes(args)
    old = book.get(args.id)
    if args.operators_command == "add":
        if old is not None:
            raise OssError(
                f"operator '{args.id}' is already in {path}; change them with 'oss operators edit'"
            )
        profile = OperatorProfile(id=args.id, **changes)  # type: ignore[arg-type]
    else:
        if old is None:
            known = ", ".join(p.id for p in book) or "none yet"
            raise OssError(
                f"no operator '{args.id}' in {path} (known: {known}); add them with 'oss operators add'"
            )
        if not changes:
            raise OssError("nothing to change: give a setting such as --level reduced or --text-size large")
        profile = replace(old, **changes)  # type: ignore[arg-type]
    book.with_profile(profile).save(path)
    print(f"{args.operators_command}: {profile.id} ({profile.display_name}) in {path}")
    return 0


def _list(book: object, log_path: Path) -> None:
    from oss.log.store import EventStore, LogError
    from oss.operator.profile import ProfileBook
    from oss.operator.session import level_from_log

    assert isinstance(book, ProfileBook)
    if not len(book):
        print(f"no operators in {book.source}; add one with: oss operators add ID --name NAME")
        return
    levels: dict[str, str] = {}
    if log_path.is_file():
        try:
            with EventStore(log_path, "", readonly=True) as store:
                products: dict[str, set[str]] = {}
                for s in store.sessions():
                    products.setdefault(s.operator, set()).add(s.product_id)
                for p in book:
                    if p.level == "auto":
                        got = [f"{lvl} for {prod}" for prod in sorted(products.get(p.id, ())) for lvl in
                               [level_from_log(store, p.id, prod)[0]]]  # fmt: skip
                        levels[p.id] = "; ".join(got)
        except LogError as e:
            print(f"(guidance levels not shown: {e})")
    rows = [("id", "name", "badge", "lang", "text", "sound", "speech", "palette", "hand", "level")]
    for p in book:
        sound = f"{p.volume:.1f}" if p.sound else "off"
        level = p.level + (f" ({levels[p.id]})" if levels.get(p.id) else "")
        rows.append(
            (
                p.id + ("" if p.active else " (inactive)"),
                p.name,
                p.badge or "-",
                p.language or "-",
                p.text_size,
                sound,
                "on" if p.speech else "off",
                p.palette,
                p.hand,
                level,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"({len(book)} operators in {book.source})")
