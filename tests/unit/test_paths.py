"""Where the app keeps its data (app/settings.py): a clone's data/, else the user's data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import settings as paths


def test_a_clone_keeps_its_data_in_its_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKPROP_DATA_DIR", raising=False)
    assert paths.is_clone()  # these tests run from the repository
    assert paths.data_dir() == paths.ROOT / "data"
    assert paths.TEMPLATES == paths.ROOT / "templates" and paths.STATIC == paths.ROOT / "static"


def test_installed_data_goes_to_the_user_data_folder(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.delenv("BACKPROP_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(paths, "ROOT", tmp_path / "site-packages")  # no pyproject.toml beside app
    assert not paths.is_clone()
    assert paths.data_dir() == tmp_path / ".local" / "share" / "backprop-studio"


def test_the_config_then_the_environment_choose_first(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.setenv("BACKPROP_DATA_DIR", str(tmp_path / "env"))
    assert paths.data_dir() == tmp_path / "env"
    assert paths.data_dir({"DATA_DIR": str(tmp_path / "config")}) == tmp_path / "config"
