"""The shipped model trained once for the triage tests (a few seconds), used through its file."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.compact import CompactModel
from triage.engine import model_save, shipped_model_forget, shipped_model_train


@pytest.fixture(scope="session")
def shipped_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("triage") / "model.pkl"
    model_save(shipped_model_train(), path)
    return path


@pytest.fixture
def shipped(settings, shipped_model_file: Path) -> CompactModel:
    """The shipped model, as the product loads it from TRIAGE_MODEL_PATH."""
    settings.TRIAGE_MODEL_PATH = str(shipped_model_file)
    settings.TRIAGE_TRAIN_MISSING_MODEL = False
    shipped_model_forget()
    yield CompactModel.from_bytes(shipped_model_file.read_bytes())
    shipped_model_forget()
