"""Where the app keeps its data, logs and settings, by the platform's convention."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from minicrm_desktop import APP_NAME, APP_ORG


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, APP_ORG))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, APP_ORG))


def default_database_path() -> Path:
    return data_dir() / "minicrm.db"
