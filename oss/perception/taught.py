"""Taught zone looks: what each zone looked like empty and done when the author taught the station.

``oss teach`` (``oss.authoring.teach``) writes them beside the instruction file, one pair of files per
variant::

    led_fixture.teach/w40.npz    looks: 'empty/<zone>' and 'done/<run step uid>/<zone>' (float32)
    led_fixture.teach/w40.yaml   what was taught: layout key, hash, mm_per_px, times, proposed zones

Looks are the normalised bench view (1 = the calibrated empty bench) sampled in the zone's own frame at
``mm_per_px``, exactly as :class:`oss.perception.presence.PresenceDetector` takes them. They are tied to
the instruction's *layout key*: a hash of the bench, fixtures, zones and the steps' done-conditions.
Editing texts, pictures or expected times keeps them; moving a zone or changing a step makes them stale,
and stale references are ignored with a warning (teach again).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from oss.instructions.model import Instruction

log = logging.getLogger("oss.perception")
TAUGHT_FORMAT = 1


def layout_key(instruction: Instruction, variant: str | None) -> str:
    """16 hex digits over what the looks depend on: bench, fixtures, zones, the variant's done-conditions."""
    ins = instruction
    doc = {
        "bench": [ins.bench.width_mm, ins.bench.depth_mm, ins.bench.surface],
        "fixtures": {
            f.id: [f.marker_id, f.marker_size_mm, f.dictionary, f.x_mm, f.y_mm, f.angle_deg]
            for f in ins.fixtures.values()
        },
        "zones": {z.id: [z.frame, z.is_bin, [list(p) for p in z.points]] for z in ins.zones.values()},
        "steps": [[rs.uid, repr(rs.done)] for rs in ins.run_steps(variant)],
    }
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def teach_dir(instruction_path: str | Path) -> Path:
    """``instructions/led_fixture.yaml`` → ``instructions/led_fixture.teach``."""
    p = Path(instruction_path)
    return p.with_name(p.stem + ".teach")


def _variant_name(variant: str | None) -> str:
    return variant or "default"


@dataclass(frozen=True)
class TaughtReferences:
    """The taught looks of one variant. ``done`` is keyed by (run step uid, zone)."""

    layout_key: str
    variant: str | None
    mm_per_px: float
    empty: dict[str, np.ndarray] = field(default_factory=dict)
    done: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    content_hash: str = ""
    info: dict[str, object] = field(default_factory=dict)  # steps, proposed zones, when (for people)

    def save(self, folder: str | Path) -> tuple[Path, Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        name = _variant_name(self.variant)
        arrays = {f"empty/{z}": a for z, a in self.empty.items()}
        arrays.update({f"done/{uid}/{z}": a for (uid, z), a in self.done.items()})
        npz = folder / f"{name}.npz"
        with open(npz, "wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        meta = {
            "format": TAUGHT_FORMAT,
            "layout_key": self.layout_key,
            "content_hash": self.content_hash,
            "variant": self.variant,
            "mm_per_px": self.mm_per_px,
            **self.info,
        }
        doc = folder / f"{name}.yaml"
        doc.write_text(
            "# Taught by 'oss teach'; used by part-presence detection while layout_key matches.\n"
            + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
        )
        return npz, doc


def load_references(
    instruction: Instruction, variant: str | None, mm_per_px: float, folder: str | Path | None = None
) -> TaughtReferences | None:
    """The taught looks for ``instruction``/``variant`` if there are any and they still fit, else None.

    Stale ones (another layout key, another ``mm_per_px``) are ignored with a warning in the log.
    """
    if folder is None:
        if not instruction.source:
            return None
        folder = teach_dir(instruction.source)
    folder = Path(folder)
    name = _variant_name(variant)
    doc_path, npz_path = folder / f"{name}.yaml", folder / f"{name}.npz"
    if not doc_path.is_file() or not npz_path.is_file():
        return None
    try:
        meta = yaml.safe_load(doc_path.read_text())
        key = str(meta["layout_key"])
        mpp = float(meta["mm_per_px"])
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        log.warning("%s: not a readable teach file (%s); ignored. Run 'oss teach' again.", doc_path, e)
        return None
    want = layout_key(instruction, variant)
    if key != want:
        log.warning(
            "%s: taught for another layout of the instruction (%s, now %s); ignored. "
            "Zones or steps changed since teaching: run 'oss teach' again.",
            doc_path,
            key,
            want,
        )
        return None
    if abs(mpp - mm_per_px) > 1e-9:
        log.warning(
            "%s: taught at %.2f mm/px, perception runs at %.2f mm/px; ignored. Teach again.",
            doc_path,
            mpp,
            mm_per_px,
        )
        return None
    empty: dict[str, np.ndarray] = {}
    done: dict[tuple[str, str], np.ndarray] = {}
    with np.load(npz_path) as data:
        for k in data.files:
            parts = k.split("/")
            if parts[0] == "empty" and len(parts) == 2:
                empty[parts[1]] = data[k]
            elif parts[0] == "done" and len(parts) == 3:
                done[(parts[1], parts[2])] = data[k]
    info = {
        k: v
        for k, v in meta.items()
        if k not in ("format", "layout_key", "content_hash", "variant", "mm_per_px")
    }
    log.info("using taught zone looks from %s (%d zones, %d done looks)", folder, len(empty), len(done))
    return TaughtReferences(key, variant, mpp, empty, done, str(meta.get("content_hash", "")), info)
