"""Package discovery. Everything else is declared in pyproject.toml.

DESIGN.md keeps ``dialects/`` and ``passes/`` as top-level folders that install as
``ccomp.dialects`` and ``ccomp.passes`` (``[tool.setuptools.package-dir]``).
setuptools' declarative ``packages.find`` cannot put a prefix on the packages it finds
under another folder, so this file runs the same discovery (``find_packages``) on each
root and names the packages as they install: no hand-kept list to forget a new
sub-package in.
"""

from setuptools import find_packages, setup

PACKAGES = find_packages(include=["ccomp", "ccomp.*"]) + [
    f"ccomp.{pkg}" for pkg in find_packages(include=["dialects", "dialects.*", "passes", "passes.*"])
]

setup(packages=PACKAGES)
