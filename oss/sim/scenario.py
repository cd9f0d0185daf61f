"""Scenario files for the virtual bench: what the simulated station looks like and what the operator does.

The format is documented for authors in ``docs/scenario-format.md``. ``load_scenario`` parses a file once
into frozen dataclasses and reports every problem with ``file:line:col`` and what to write instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from oss.instructions.model import Instruction, PartAbsent, PartPresent, Pick, SourcePos, iter_conditions
from oss.instructions.yamlnodes import FileProblems, Problem, compose_file
from oss.package_data import samples_dir

SCENARIO_FORMAT = 1
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the repository, in a source checkout

# kind -> {param: (type, default)}; a default of ... means required.
DEVIATIONS: dict[str, dict[str, tuple[str, object]]] = {
    "wrong_pick": {"bin": ("bin", ...), "return_part": ("bool", True)},
    "pass_over": {"bin": ("bin", ...)},
    "hesitate": {"seconds": ("seconds", 2.0)},
    "rest_in_zone": {"zone": ("zone", ...), "seconds": ("seconds", 2.0)},
    "put_back": {"away_s": ("seconds", 0.6)},
    "lean_over": {"seconds": ("seconds", 3.0), "x_mm": ("mm?", None), "reach_mm": ("mm", 320.0)},
    "light_on": {
        "level": ("level", 0.35),
        "x_mm": ("mm?", None),
        "y_mm": ("mm?", None),
        "radius_mm": ("mm", 700.0),
    },
    "bump_camera": {
        "dx_mm": ("mm", 0.0),
        "dy_mm": ("mm", 0.0),
        "angle_deg": ("deg", 0.0),
        "tilt_deg": ("deg", 0.0),
    },
    "bump_bench": {"dx_mm": ("mm", 0.0), "dy_mm": ("mm", 0.0), "angle_deg": ("deg", 0.0)},
    "move_jig": {
        "dx_mm": ("mm", 0.0),
        "dy_mm": ("mm", 0.0),
        "angle_deg": ("deg", 0.0),
        "fixture": ("fixture?", None),
    },
}
OPERATOR_DEVIATIONS = ("wrong_pick", "pass_over", "hesitate", "rest_in_zone", "put_back")
"""Deviations the operator makes while doing a step: they need ``step``. The others happen to the bench at
``at_s`` seconds or when the operator starts ``step`` (plus ``after_s``)."""


@dataclass(frozen=True)
class CameraSpec:
    size: tuple[int, int] = (1280, 720)
    fps: float = 30.0
    position_mm: tuple[float, float, float] | None = None  # None: above the bench centre, see docs
    look_at_mm: tuple[float, float] | None = None  # None: bench centre
    roll_deg: float = 0.0
    focal_px: float | None = None  # None: the bench fills `fill` of the image
    fill: float = 0.92
    k1: float = -0.06
    k2: float = 0.015
    exposure: float = 1.0
    noise_sigma: float = 2.0
    shot_noise: float = 0.35
    exposure_ms: float = 12.0
    defocus_px: float = 0.6


@dataclass(frozen=True)
class ProjectorSpec:
    size: tuple[int, int] = (1280, 800)
    position_mm: tuple[float, float, float] | None = None
    look_at_mm: tuple[float, float] | None = None
    roll_deg: float = 0.0
    focal_px: float | None = None  # None: the projection covers the bench with `fill`
    fill: float = 0.98
    principal_shift: float = 0.0
    brightness: float = 0.75  # light a full-white projection adds on the bench, relative to 255
    black_level: float = 0.02


@dataclass(frozen=True)
class LightingSpec:
    ambient: float = 0.5
    drift_amplitude: float = 0.03
    drift_period_s: float = 90.0
    vignette: float = 0.18


@dataclass(frozen=True)
class OperatorSpec:
    reaction_s: float = 0.6
    speed_mm_s: float = 900.0
    jitter: float = 0.15
    pick_s: tuple[float, float] = (0.4, 0.8)
    place_s: float = 0.5
    margin_s: float = 0.4
    stuck_timeout_s: float = 8.0
    hand: str = "auto"  # auto, left, right
    x_mm: float | None = None  # where the operator stands; None: bench centre
    skin: str = "#c6977c"
    sleeve: str = "#2d3e5c"


@dataclass(frozen=True)
class Deviation:
    kind: str
    step: str | None = None
    cycle: int = 0
    at_s: float | None = None
    after_s: float = 0.0
    params: tuple[tuple[str, object], ...] = ()
    pos: SourcePos | None = field(default=None, compare=False)

    def get(self, key: str) -> object:
        d = dict(self.params)
        if key in d:
            return d[key]
        return DEVIATIONS[self.kind][key][1]

    def num(self, key: str) -> float:
        v = self.get(key)
        return float(v) if isinstance(v, int | float) else 0.0

    def text(self, key: str) -> str:
        return str(self.get(key))

    def opt_num(self, key: str) -> float | None:
        v = self.get(key)
        return float(v) if isinstance(v, int | float) else None


@dataclass(frozen=True)
class Scenario:
    name: str
    instructions: Path
    variant: str | None = None
    cycles: int = 1
    seed: int = 0
    description: str = ""
    time_limit_s: float = 900.0
    camera: CameraSpec = field(default_factory=CameraSpec)
    projector: ProjectorSpec = field(default_factory=ProjectorSpec)
    lighting: LightingSpec = field(default_factory=LightingSpec)
    operator: OperatorSpec = field(default_factory=OperatorSpec)
    deviations: tuple[Deviation, ...] = ()
    source: str = ""
    variant_pos: SourcePos | None = field(default=None, compare=False)  # where the file names the variant

    def load_instruction(self) -> Instruction:
        from oss.instructions import load_instruction

        return load_instruction(self.instructions)


def scenario_path(path_or_name: str | Path) -> Path:
    """A bare name (``led_basic``) is a shipped scenario in ``oss/sim/scenarios``; else a file path."""
    p = Path(path_or_name)
    if p.suffix.lower() in (".yaml", ".yml") or len(p.parts) > 1:
        return p
    return SCENARIO_DIR / f"{p.name}.yaml"


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(path_or_name: str | Path, check: bool = True) -> Scenario:
    """Parse a scenario file; with ``check`` also load its instruction file and check every step, bin and
    zone the scenario names against it. Raises ``FileProblems`` (an ``OssError``) listing every problem."""
    path = scenario_path(path_or_name)
    if not path.exists() and len(Path(path_or_name).parts) == 1 and not str(path_or_name).endswith(".yaml"):
        names = ", ".join(shipped_scenarios())
        raise FileProblems(
            [
                Problem(
                    SourcePos(str(path_or_name), 1, 1),
                    f"no shipped scenario of this name; there are: {names}",
                )
            ]
        )
    from oss.sim.scenario_reader import Reader

    root = compose_file(path, "scenario file")
    reader = Reader(str(path))
    scenario = reader.scenario(root, path)
    if reader.problems.errors or scenario is None:
        raise FileProblems(reader.problems.items)
    if check:
        check_scenario(scenario, scenario.load_instruction())
    return scenario


def resolve_instructions(value: str, scenario_file: Path) -> list[Path]:
    """Where ``instructions:`` may point: as written if absolute, else next to the scenario file, then from
    the current directory, then (for ``instructions/NAME``) among the samples shipped with OSS: the
    repository's ``instructions/`` folder, which an installed OSS carries as ``oss.samples``."""
    p = Path(value)
    if p.is_absolute():
        return [p]
    tried = [scenario_file.parent / p, Path.cwd() / p]
    if len(p.parts) > 1 and p.parts[0] == "instructions":
        tried.append(samples_dir().joinpath(*p.parts[1:]))
    return tried


def check_scenario(scenario: Scenario, instruction: Instruction) -> None:
    """Check the scenario's variant, steps, bins and zones against ``instruction``; raise FileProblems."""
    problems: list[Problem] = []
    file = scenario.source or scenario.name
    top = SourcePos(file, 1, 1)
    if scenario.variant is not None and instruction.variants and scenario.variant not in instruction.variants:
        problems.append(
            Problem(
                scenario.variant_pos or top,
                f"variant '{scenario.variant}' is not in the instruction; write one of: "
                f"{', '.join(instruction.variants)}",
            )
        )
        raise FileProblems(problems)
    runs = {r.uid: r for r in instruction.run_steps(scenario.variant)}
    for d in scenario.deviations:
        pos = d.pos or top
        if d.step is not None and d.step not in runs:
            problems.append(
                Problem(
                    pos, f"step '{d.step}' is not a step of this variant; write one of: {', '.join(runs)}"
                )
            )
            continue
        if d.cycle >= scenario.cycles:
            problems.append(
                Problem(pos, f"cycle {d.cycle} is not run: the scenario runs cycles 0..{scenario.cycles - 1}")
            )
        for key, (kind, _) in DEVIATIONS[d.kind].items():
            v = dict(d.params).get(key)
            if v is None:
                continue
            if kind == "bin" and v not in instruction.bins:
                problems.append(Problem(pos, f"'{v}' is not a bin; bins are: {', '.join(instruction.bins)}"))
            if kind == "zone" and v not in instruction.zones:
                problems.append(Problem(pos, f"'{v}' is not a zone of the instruction"))
            if kind == "fixture?" and v not in instruction.fixtures:
                problems.append(
                    Problem(pos, f"'{v}' is not a fixture; fixtures are: {', '.join(instruction.fixtures)}")
                )
        if d.step is None:
            continue
        conds = list(iter_conditions(runs[d.step].done))
        if d.kind == "wrong_pick" and not any(isinstance(c, Pick) for c in conds):
            problems.append(Problem(pos, f"step '{d.step}' picks nothing, so there is no pick to get wrong"))
        if d.kind == "put_back" and not any(isinstance(c, PartPresent | PartAbsent) for c in conds):
            problems.append(Problem(pos, f"step '{d.step}' puts no part down (no 'present' condition)"))
    if problems:
        raise FileProblems(problems)
