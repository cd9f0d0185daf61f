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
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from yaml.constructor import SafeConstructor

from oss.instructions.model import Instruction
from oss.instructions.reader import Reader
from oss.instructions.yamlnodes import (
    FileProblems,
    Problems,
    compose_file,
    mapping_items,
    path_state,
    shorten,
)
from oss.records import OssError

log = logging.getLogger("oss.perception")
TAUGHT_FORMAT = 1
# Limits of the taught-looks files (issue 21): checked from the headers, before anything is read.
MAX_MM_PER_PX = 50.0
MAX_LOOKS = 10_000  # arrays in one .npz
MAX_LOOK_PX = 12_000_000  # values of one look (2000 x 2000 colour)
MAX_LOOKS_PX = 50_000_000  # all looks of a variant (200 MB of float32)
MAX_LOOKS_BYTES = 200_000_000  # the .npz file


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
    if path_state(doc_path) == "missing" and path_state(npz_path) == "missing":
        return None
    try:
        meta, key, mpp, content_hash, nodes = read_teach_file(doc_path)
    except OssError as e:  # FileProblems: FILE:LINE:COL
        log.warning("%s; taught looks ignored. Run 'oss teach' again.", e)
        return None
    want = layout_key(instruction, variant)
    if key != want:
        log.warning(
            "%s: taught for another layout of the instruction (%s, now %s); ignored. "
            "Zones or steps changed since teaching: run 'oss teach' again.",
            Problems(str(doc_path)).pos(nodes["layout_key"]),
            shorten(key),
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
    try:
        if path_state(npz_path) != "file":
            raise OssError(f"{npz_path}: not found, the looks of {doc_path.name} are missing")
        arrays = read_looks(npz_path)
    except OssError as e:
        log.warning("%s; taught looks ignored. Run 'oss teach' again.", e)
        return None
    empty: dict[str, np.ndarray] = {}
    done: dict[tuple[str, str], np.ndarray] = {}
    for k, a in arrays.items():
        parts = k.split("/")
        if parts[0] == "empty" and len(parts) == 2:
            empty[parts[1]] = a
        elif parts[0] == "done" and len(parts) == 3:
            done[(parts[1], parts[2])] = a
    info = {
        k: v
        for k, v in meta.items()
        if k not in ("format", "layout_key", "content_hash", "variant", "mm_per_px")
    }
    log.info("using taught zone looks from %s (%d zones, %d done looks)", folder, len(empty), len(done))
    return TaughtReferences(key, variant, mpp, empty, done, content_hash, info)


def read_teach_file(path: Path) -> tuple[dict[str, object], str, float, str, dict[str, yaml.Node]]:
    """The checked ``<variant>.yaml`` of taught looks: (all of it, layout key, mm_per_px, content hash,
    the value node of each key). Raises FileProblems with FILE:LINE:COL."""
    root = compose_file(path, "teach file")
    p = Problems(str(path))
    r = Reader(p)
    nodes: dict[str, yaml.Node] = {}
    if isinstance(root, yaml.MappingNode):
        nodes = {key: v for key, _, v in mapping_items(root)}
    else:
        p.error(root, "a teach file is a mapping of keys written by 'oss teach'")
        raise FileProblems(p.items)
    for needed in ("layout_key", "mm_per_px"):
        if needed not in nodes:
            p.error(root, f"the teach file needs '{needed}'")
    key = r.string(nodes["layout_key"], "layout_key") if "layout_key" in nodes else None
    mpp = (
        r.number(nodes["mm_per_px"], "mm_per_px", positive=True, maximum=MAX_MM_PER_PX)
        if "mm_per_px" in nodes
        else None
    )
    ch = nodes.get("content_hash")
    content_hash = str(ch.value) if isinstance(ch, yaml.ScalarNode) else None if ch is not None else ""
    if content_hash is None:
        p.error(ch, "content_hash must be a text")
    meta: object = None
    try:
        meta = SafeConstructor().construct_document(root)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as e:
        p.error(root, f"the teach file cannot be read ({shorten(str(e), 120)})")
    if p.errors or key is None or mpp is None or not isinstance(meta, dict):
        raise FileProblems(p.items)
    return meta, key, mpp, content_hash or "", nodes


def read_looks(path: Path) -> dict[str, np.ndarray]:
    """The looks of a ``<variant>.npz``, each checked from its header before it is read. Raises OssError."""
    if path.stat().st_size > MAX_LOOKS_BYTES:
        raise OssError(f"{path}: more than {MAX_LOOKS_BYTES // 1_000_000} MB of taught looks")
    out: dict[str, np.ndarray] = {}
    total = 0
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if len(names) > MAX_LOOKS:
                raise OssError(f"{path}: {len(names)} taught looks; at most {MAX_LOOKS} are read")
            for member in names:
                with z.open(member) as f:
                    version = np.lib.format.read_magic(f)
                    header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = header(f)
                    n = int(np.prod(shape)) if all(isinstance(d, int) and d >= 0 for d in shape) else -1
                    image = len(shape) == 2 or (len(shape) == 3 and shape[2] in (1, 3, 4))
                    if not image or dtype.kind != "f" or not 0 <= n <= MAX_LOOK_PX:
                        raise OssError(
                            f"{path}: '{shorten(member)}' is not a taught look (a float image of at most "
                            f"{MAX_LOOK_PX} values): {shape} {dtype}"
                        )
                    total += n
                    if total > MAX_LOOKS_PX:
                        raise OssError(f"{path}: more than {MAX_LOOKS_PX} values of taught looks")
                with z.open(member) as f:
                    out[member.removesuffix(".npy")] = np.lib.format.read_array(f, allow_pickle=False)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise OssError(f"{path}: the taught looks are damaged ({shorten(str(e), 120)})") from None
    return out


def teach_problems(instruction: Instruction) -> list[str]:
    """What keeps the station from using the instruction's taught looks, one message each (``oss validate``
    shows them as warnings: the station ignores such looks and works without them)."""
    if not instruction.source:
        return []
    folder = teach_dir(instruction.source)
    if not folder.is_dir():
        return []
    out: list[str] = []
    for variant in instruction.variants or (None,):
        doc_path = folder / f"{_variant_name(variant)}.yaml"
        npz_path = doc_path.with_suffix(".npz")
        if path_state(doc_path) == "missing" and path_state(npz_path) == "missing":
            continue
        try:
            _, key, _, _, nodes = read_teach_file(doc_path)
            if path_state(npz_path) != "file":
                raise OssError(f"{npz_path}: not found, the looks of {doc_path.name} are missing")
            read_looks(npz_path)
        except FileProblems as e:
            out.extend(
                f"{p.pos}: warning: {p.message}; the station ignores these taught looks" for p in e.problems
            )
            continue
        except OssError as e:
            text = str(e).removeprefix(f"{npz_path}: ")
            out.append(f"{npz_path}: warning: {text}; the station ignores these taught looks")
            continue
        want = layout_key(instruction, variant)
        if key != want:
            pos = Problems(str(doc_path)).pos(nodes["layout_key"])
            out.append(
                f"{pos}: warning: taught for another layout of the instruction (zones or steps changed): "
                "the station ignores these looks; run 'oss teach' again"
            )
    return out
