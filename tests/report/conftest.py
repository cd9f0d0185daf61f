from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.builders import scenario


@pytest.fixture(scope="session")
def scenario_logs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return scenario(tmp_path_factory.mktemp("scenario"))
