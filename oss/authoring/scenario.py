"""The default virtual-bench scenario of an instruction file: one unit, every step done correctly.

``oss preview`` and ``oss teach --camera sim`` need a scenario without the author writing one: the camera
and projector of the virtual bench place themselves over the bench the instruction declares, the
scripted operator does each step as its done-condition says (see ``docs/scenario-format.md``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from oss.instructions.model import Instruction
from oss.records import OssError
from oss.sim.scenario import CameraSpec, OperatorSpec, Scenario


def default_scenario(
    instruction: Instruction,
    variant: str | None = None,
    *,
    cycles: int = 1,
    seed: int = 0,
    camera_size: tuple[int, int] = (1280, 720),
    fps: float = 30.0,
    operator: OperatorSpec | None = None,
) -> Scenario:
    """A clean run of ``instruction`` (its ``source`` file) for ``variant`` (default: the first)."""
    if not instruction.source:
        raise OssError("the instruction has no source file; load it with load_instruction(path)")
    if variant is not None and instruction.variants and variant not in instruction.variants:
        raise OssError(
            f"{instruction.source}: no variant {variant!r}; use one of: {', '.join(instruction.variants)}"
        )
    variant = variant or instruction.default_variant()
    return Scenario(
        name=f"{Path(instruction.source).stem}-clean",
        instructions=Path(instruction.source),
        variant=variant,
        cycles=cycles,
        seed=seed,
        description=f"every step of {instruction.product_id} done correctly (derived by oss)",
        time_limit_s=max(120.0, 60.0 * len(instruction.run_steps(variant)) * cycles),
        camera=replace(CameraSpec(), size=camera_size, fps=fps),
        operator=operator or OperatorSpec(),
        source="(derived from the instruction file)",
    )
