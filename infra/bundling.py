"""Lambda layers built on this machine, without Docker (PythonFunction always needs Docker)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, aws_lambda

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = aws_lambda.Runtime.PYTHON_3_12


def compile_bytecode(folder: Path) -> None:
    """Writes hash-validated bytecode next to every module. Assets are zipped with every file dated 1980, so
    pip's timestamp-validated .pyc files never match and each cold start would compile the whole import
    closure again; a hash-based .pyc is valid whatever the dates (and the same bytes in every build)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "checked-hash", str(folder)],
        check=True,
    )


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
        compile_bytecode(target)
        return True


@jsii.implements(ILocalBundling)
class CopyPackage:
    """Copies a source folder into the asset (under `under`, e.g. a layer's python/), with fresh bytecode."""

    def __init__(self, package_dir: Path, under: str):
        self.package_dir, self.under = package_dir, under

    def try_bundle(self, output_dir: str, *, image=None, **_options) -> bool:
        target = Path(output_dir) / self.under
        shutil.copytree(
            self.package_dir, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True
        )
        compile_bytecode(target)
        return True


def dependencies_layer_code(name: str) -> aws_lambda.Code:
    """The pinned packages of layers/<name>/requirements.txt."""
    folder = ROOT / "layers" / name
    # The bundle is what the pins and this module make: a change to either builds it again (CDK would
    # otherwise reuse a bundle cached by the folder's content alone).
    digest = hashlib.sha256((folder / "requirements.txt").read_bytes() + Path(__file__).read_bytes()).hexdigest()
    return aws_lambda.Code.from_asset(
        str(folder),
        asset_hash=digest,
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=PipInstall(folder / "requirements.txt")),
    )


def domain_layer_code() -> aws_lambda.Code:
    folder = ROOT / "shared" / "chirp"
    return aws_lambda.Code.from_asset(
        str(folder),
        exclude=["__pycache__", "*.pyc"],
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=CopyPackage(folder, under=f"python/{folder.name}")),
    )


def function_code(folder: Path) -> aws_lambda.Code:
    """A function's own folder, compiled like the layers."""
    return aws_lambda.Code.from_asset(
        str(folder),
        exclude=["__pycache__", "*.pyc"],
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=CopyPackage(folder, under=".")),
    )
