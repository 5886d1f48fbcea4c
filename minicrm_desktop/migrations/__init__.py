"""Alembic migrations, bundled with the package (and the PyInstaller build)."""
