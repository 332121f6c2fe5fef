"""Lambda layers built on this machine, without Docker (PythonFunction always needs Docker)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling, aws_lambda

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = aws_lambda.Runtime.PYTHON_3_12
# Never run: local bundling always succeeds or fails loudly. CDK requires an image in BundlingOptions.
_UNUSED_IMAGE = DockerImage.from_registry("public.ecr.aws/sam/build-python3.12")


@jsii.implements(ILocalBundling)
class PipInstall:
    """pip-installs a pinned requirements file for the Lambda platform (manylinux x86_64, CPython 3.12)."""

    def __init__(self, requirements: Path):
        self.requirements = requirements

    def try_bundle(self, output_dir: str, *, image=None, **_options) -> bool:
        target = Path(output_dir) / "python"
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--requirement", str(self.requirements), "--target", str(target),
                "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
                "--implementation", "cp", "--python-version", "3.12", "--only-binary=:all:",
            ],
            check=True,
        )  # fmt: skip
        return True


@jsii.implements(ILocalBundling)
class CopyPackage:
    """Copies a source package into a layer's python/ folder, without caches."""

    def __init__(self, package_dir: Path):
        self.package_dir = package_dir

    def try_bundle(self, output_dir: str, *, image=None, **_options) -> bool:
        shutil.copytree(
            self.package_dir,
            Path(output_dir) / "python" / self.package_dir.name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        return True


def dependencies_layer_code() -> aws_lambda.Code:
    folder = ROOT / "layers" / "deps"
    return aws_lambda.Code.from_asset(
        str(folder),
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=PipInstall(folder / "requirements.txt")),
    )


def domain_layer_code() -> aws_lambda.Code:
    folder = ROOT / "shared" / "chirp"
    return aws_lambda.Code.from_asset(
        str(folder),
        exclude=["__pycache__", "*.pyc"],
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=CopyPackage(folder)),
    )
