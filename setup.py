"""Which packages the distribution holds (the rest of the metadata is in pyproject.toml).

Every `minicrm_desktop` package, plus the top-level `resources/` folder (icons, and fonts in
a PyInstaller build), which stays where it is in the repository and is shipped as the
package data `minicrm_desktop.resources`: wheels, editable installs and plain installs all
carry it, and views/common/resources.py finds it through the import system.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["minicrm_desktop", "minicrm_desktop.*"]),
              "minicrm_desktop.resources"],
    package_dir={"minicrm_desktop.resources": "resources"},
)
