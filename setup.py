"""The build step pyproject.toml cannot declare: the repository's templates/ and static/ (at the
top level, beside app/) are copied into the wheel's ``app`` package, where app/settings.py finds
them once installed. Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PAGE_FILES = ("templates", "static")


class BuildWithPageFiles(build_py):
    """`build_py`, then templates/ and static/ into <build>/app/ (not for an editable install,
    which serves them from the clone)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in PAGE_FILES:
            source = HERE / name
            if not source.is_dir():
                raise FileNotFoundError(f"{source}: the page files must be built into the wheel")
            target = Path(self.build_lib) / "app" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)


setup(cmdclass={"build_py": BuildWithPageFiles})
