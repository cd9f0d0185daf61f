"""Files that ship inside the package (the sample instruction with its pictograms), and its version.

The repository keeps them in the top-level ``instructions/`` folder; ``pyproject.toml`` maps that folder
to the subpackage ``oss.samples``, so an installed wheel (and an editable install) carries them and
finds them with ``importlib.resources``. Code that runs from a source tree without any install (the
repository on ``sys.path``) reads the folder itself. The simulator's scenarios live in
``oss/sim/scenarios`` and the hand model in ``oss/perception/models``: plain package data.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

from oss.records import OssError

SAMPLES_PACKAGE = "oss.samples"
SAMPLE_INSTRUCTION = "led_fixture.yaml"
_SOURCE_TREE = Path(__file__).resolve().parents[1]
_SOURCE_TREE_SAMPLES = _SOURCE_TREE / "instructions"


def package_version() -> str:
    """The installed distribution's version; in a source tree that is not installed, the version in its
    ``pyproject.toml`` marked as such."""
    try:
        return metadata.version("oss")
    except metadata.PackageNotFoundError:
        pass
    try:
        import tomllib

        project = tomllib.loads((_SOURCE_TREE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        return f"{project['version']} (source tree, not installed)"
    except (OSError, KeyError, ValueError):
        return "unknown (not installed)"


def samples_dir() -> Path:
    """The folder of the sample instructions (``instructions/`` of the repository, ``oss/samples``
    when installed)."""
    try:
        root = resources.files(SAMPLES_PACKAGE)
    except ModuleNotFoundError:  # a source tree on sys.path, not installed
        root = _SOURCE_TREE_SAMPLES
    path = Path(str(root))
    if not (path / SAMPLE_INSTRUCTION).is_file():
        raise OssError(
            f"the sample instructions are missing ({path / SAMPLE_INSTRUCTION} not found): reinstall OSS "
            "(pip install .), or name an instruction file with --instructions"
        )
    return path


def sample_instruction() -> Path:
    """The sample instruction file: the LED street-light fixture."""
    return samples_dir() / SAMPLE_INSTRUCTION
