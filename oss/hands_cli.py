"""``oss hands``: find hands in still images with MediaPipe's hand landmarker; write them as JSON.

    oss hands photo1.jpg photo2.png --json hands.json
    oss hands shots/*.jpg --json hands.json --draw previews/     # also write images with the skeletons
    oss hands img.jpg --json - --task hand_landmarker.task        # another model; JSON to stdout

Per image: each hand's handedness ("Left"/"Right" for an unmirrored photo), its score and MediaPipe's
21 landmarks in image px (x right, y down; landmark 0 is the wrist, 8 the index fingertip).
The wiring into ``oss`` is ``add_commands(subparsers, commands)`` (see ``oss/cli.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2

from oss.perception.landmarks import HandLandmarks, LandmarkerOptions, StillImageHands, draw_landmarks
from oss.records import OssError

Command = Callable[[argparse.Namespace], int]


def add_commands(subparsers: argparse._SubParsersAction, commands: dict[str, Command]) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "hands",
        help="find hands in still images; write handedness, score and 21 landmarks (px) per hand as JSON",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
    )
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--json", required=True, metavar="FILE", help="where to write the result ('-': stdout)")
    p.add_argument(
        "--task", metavar="FILE", help="a hand_landmarker.task (default: the one shipped with OSS)"
    )
    p.add_argument("--max-hands", type=int, default=2, help="hands per image at most (default 2)")
    p.add_argument("--min-score", type=float, default=0.5, help="palm detection confidence (default 0.5)")
    p.add_argument("--draw", metavar="DIR", help="also write each image with the hands drawn into DIR")
    commands["hands"] = run


def hands_doc(path: str, width: int, height: int, hands: Sequence[HandLandmarks]) -> dict[str, object]:
    return {
        "image": path,
        "width": width,
        "height": height,
        "hands": [
            {
                "handedness": h.handedness,
                "score": round(h.score, 4),
                "landmarks_px": [[round(x, 2), round(y, 2)] for x, y in h.landmarks_px],
            }
            for h in hands
        ],
    }


def detect_files(
    paths: Sequence[str], options: LandmarkerOptions, draw_dir: str | None = None
) -> dict[str, object]:
    """Run the landmarker on every image; the JSON document ``oss hands`` writes."""
    images = []
    with StillImageHands(options) as det:
        for path in paths:
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise OssError(
                    f"{path}: not a readable image (missing, or not JPEG/PNG/...). Check the path."
                )
            hands = det.detect(img)
            images.append(hands_doc(path, img.shape[1], img.shape[0], hands))
            if draw_dir is not None:
                out = img.copy()
                draw_landmarks(out, hands)
                Path(draw_dir).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(Path(draw_dir) / (Path(path).stem + "_hands.png")), out)
    return {
        "model": options.task_file or "OSS hand_landmarker.task: palm_detection_full + hand_landmark_full",
        "images_with_hands": sum(1 for i in images if i["hands"]),
        "images": images,
    }


def run(args: argparse.Namespace) -> int:
    opts = LandmarkerOptions(task_file=args.task, max_hands=args.max_hands, min_detection=args.min_score)
    doc = detect_files(args.images, opts, args.draw)
    text = json.dumps(doc, indent=1)
    if args.json == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(args.json).write_text(text + "\n")
        print(
            f"{doc['images_with_hands']} of {len(args.images)} images with a hand -> {args.json}",
            file=sys.stderr,
        )
    return 0
