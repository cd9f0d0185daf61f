"""MediaPipe's own reference output for the real hand photos, and the comparison with ``oss hands``.

The reference is MediaPipe's legacy ``mp.solutions.hands.Hands(static_image_mode=True,
model_complexity=1)``: the same palm_detection_full and hand_landmark_full models, through the older
graph. Its handedness assumes a mirrored (selfie) image, so its labels are swapped before comparing.

mediapipe dropped the legacy solutions after 0.10.21, so the reference was run once with mediapipe
0.10.21 and its output is kept in ``legacy_reference.json`` (per photo under ``../shared/data/hands/``:
per hand the unmirrored handedness and 21 landmarks in image px, to 0.001 px). To record it again, in an
environment with mediapipe 0.10.21 (Python 3.11 or 3.12)::

    python -m tests.hands.reference --record
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tests.conftest import SHARED_DATA

HANDS_DIR = SHARED_DATA / "hands"
REFERENCE_FILE = Path(__file__).resolve().parent / "legacy_reference.json"
SWAP = {"Left": "Right", "Right": "Left"}


def photo_paths() -> list[Path]:
    return sorted(HANDS_DIR.glob("*/*.jpg"))


def legacy_reference(paths: list[Path]) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Per image path: (handedness for an unmirrored image, 21×2 px) per hand, from the legacy solution
    (as recorded in ``legacy_reference.json``)."""
    doc = json.loads(REFERENCE_FILE.read_text())
    recorded = doc["images"]
    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    for p in paths:
        key = p.relative_to(HANDS_DIR).as_posix()
        if key not in recorded:
            raise KeyError(
                f"{key} is not in {REFERENCE_FILE.name}: record the reference again (see its module)"
            )
        out[str(p)] = [(h["handedness"], np.asarray(h["landmarks_px"], np.float64)) for h in recorded[key]]
    return out


def record_legacy_reference(paths: list[Path]) -> dict[str, object]:
    """Run the legacy solution (mediapipe 0.10.21 or older) on ``paths``: the document of ``legacy_reference.json``."""
    import mediapipe as mp

    images: dict[str, list[dict[str, object]]] = {}
    with mp.solutions.hands.Hands(static_image_mode=True, model_complexity=1, max_num_hands=2) as legacy:
        for p in paths:
            bgr = cv2.imread(str(p))
            h, w = bgr.shape[:2]
            res = legacy.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            hands = []
            for lms, hd in zip(res.multi_hand_landmarks or [], res.multi_handedness or [], strict=True):
                pts = [[round(q.x * w, 3), round(q.y * h, 3)] for q in lms.landmark]
                hands.append({"handedness": SWAP.get(hd.classification[0].label, ""), "landmarks_px": pts})
            images[p.relative_to(HANDS_DIR).as_posix()] = hands
    return {
        "source": "mp.solutions.hands.Hands(static_image_mode=True, model_complexity=1, max_num_hands=2), "
        "handedness swapped to an unmirrored image",
        "mediapipe": mp.__version__,
        "images": images,
    }


@dataclass(frozen=True)
class Comparison:
    images: int
    images_with_hands: int
    reference_images_with_hands: int
    matched_hands: int
    mean_px: list[float]  # per matched hand: mean landmark distance
    max_px: list[float]  # per matched hand: largest landmark distance
    handedness_agree: int

    def summary(self) -> dict[str, object]:
        m = np.asarray(self.mean_px)
        return {
            "images": self.images,
            "images_with_hands": self.images_with_hands,
            "reference_images_with_hands": self.reference_images_with_hands,
            "matched_hands": self.matched_hands,
            "landmark_px_mean": round(float(m.mean()), 3),
            "landmark_px_median_of_hand_means": round(float(np.median(m)), 3),
            "landmark_px_max": round(float(max(self.max_px)), 3),
            "hands_within_3px_mean": int((m <= 3.0).sum()),
            "handedness_agree": self.handedness_agree,
        }


def compare(doc: dict[str, object], reference: dict[str, list[tuple[str, np.ndarray]]]) -> Comparison:
    """``oss hands`` JSON against the reference: each of our hands matched to the nearest reference hand."""
    images = doc["images"]
    assert isinstance(images, list)
    means: list[float] = []
    maxes: list[float] = []
    agree = 0
    for im in images:
        ref = reference[im["image"]]
        for hand in im["hands"]:
            ours = np.asarray(hand["landmarks_px"], np.float64)
            if not ref:
                continue
            d = [np.hypot(*(ours - r).T) for _, r in ref]
            k = int(np.argmin([x.mean() for x in d]))
            means.append(float(d[k].mean()))
            maxes.append(float(d[k].max()))
            agree += ref[k][0] == hand["handedness"]
    return Comparison(
        len(images),
        sum(1 for im in images if im["hands"]),
        sum(1 for v in reference.values() if v),
        len(means),
        means,
        maxes,
        agree,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description="record MediaPipe's legacy reference for the real hand photos")
    ap.add_argument(
        "--record", action="store_true", help=f"write {REFERENCE_FILE.name} (needs mediapipe 0.10.21)"
    )
    args = ap.parse_args()
    if not args.record:
        ap.print_help()
        return 2
    paths = photo_paths()
    if not paths:
        print(f"no photos in {HANDS_DIR}", file=sys.stderr)
        return 1
    doc = record_legacy_reference(paths)
    text = json.dumps(doc, indent=1)
    text = re.sub(r"\[\s*(-?[\d.]+),\s*(-?[\d.]+)\s*\]", r"[\1, \2]", text)  # a point per line
    REFERENCE_FILE.write_text(text + "\n")
    print(f"{REFERENCE_FILE}: {len(paths)} photos, {sum(map(len, doc['images'].values()))} hands")  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    sys.exit(main())
