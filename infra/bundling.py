"""Lambda layers built on this machine, without Docker (PythonFunction always needs Docker)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    BundlingOutput,
    DockerImage,
    FileSystem,
    ILocalBundling,
    aws_lambda,
)

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = aws_lambda.Runtime.PYTHON_3_12
# The layer folder whose .pth files the Lambda runtime's bootstrap processes (site.addsitedir), as MiniStack's
# worker does: a zip named in a .pth there is put on sys.path.
SITE_PACKAGES = "python/lib/python3.12/site-packages"
# Distributions the python3.12 runtime ships too (beside boto3 and botocore). An AWS stage's layer has its pinned
# copies as files in python/, which comes before the runtime's packages on sys.path. A zip named in a .pth comes
# after them, so from a zip they would never load: a zipped layer (the local stage's) leaves them to its runtime,
# MiniStack's venv, which pins the same versions (localstack/requirements.txt; a test holds the pins equal).
RUNTIME_ALSO_SHIPS = frozenset({"jmespath", "python_dateutil", "six", "urllib3"})
# What the python3.12 runtime ships beside the interpreter, by import name (benchmarks and tests put the venv's
# copies after the layers, where the runtime's are).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: the archive is the same bytes in every build
# A zipped layer's whole asset, as CDK uploads it (layer_folder).
LAYER_ARCHIVE = "layer.zip"
# Python run first by a bare interpreter (-S) standing in for the python3.12 runtime, with `task` (the function's
# code), `opt` (its layers merged) and `runtime` (the runtime's boto3 and botocore) bound: sys.path as the
# runtime's bootstrap builds it (awslambdaric: set_default_pythonpath, then add_default_site_directories, whose
# site.addsitedir processes the layers' .pth files, so their zips come after the runtime's own packages).
LAMBDA_SYS_PATH = f"""
import site, sys
layer_dirs = [opt + "/{SITE_PACKAGES}", opt + "/python"]
sys.path[:0] = [task, *layer_dirs]
sys.path.append(runtime)
for site_dir in (task, *layer_dirs):
    site.addsitedir(site_dir)
"""


def compile_bytecode(folder: Path) -> None:
    """Writes hash-validated bytecode next to every module. Assets are zipped with every file dated 1980, so
    pip's timestamp-validated .pyc files never match and each cold start would compile the whole import
    closure again; a hash-based .pyc is valid whatever the dates (and the same bytes in every build)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "checked-hash", str(folder)],
        check=True,
    )


def zip_for_import(python_dir: Path, names: list[str], archive: str) -> None:
    """Moves the top-level packages and modules `names` of a layer's python/ folder into one zip that zipimport
    reads, named in a .pth beside it. MiniStack unzips every layer into a fresh folder at each cold start and
    Lambda extracts it too: one file instead of thousands is what makes that cheap. In the zip each module has its
    source (tracebacks show the lines) and a legacy-layout .pyc beside it (zipimport does not read __pycache__),
    hash-based and unchecked: the archive is never edited in place, so the source cannot drift from it."""
    site_packages = python_dir.parent / SITE_PACKAGES
    site_packages.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as staging_dir:
        staging = Path(staging_dir)
        for name in names:
            shutil.move(python_dir / name, staging / name)
        for cache in list(staging.rglob("__pycache__")):
            shutil.rmtree(cache)
        # Each code object names its file as it is on Lambda (/opt), not the staging folder: the same bytes in
        # every build (tracebacks read the lines through the zip's loader wherever it is).
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-b", "-j", "0", "--invalidation-mode", "unchecked-hash",
             "-d", f"/opt/{SITE_PACKAGES}/{archive}", str(staging)],
            check=True,
        )  # fmt: skip
        # Bytecode stored, so imports skip zlib; the rest (sources, read only for tracebacks, and data) deflated:
        # the layer archive around it is stored (layer_folder), and MiniStack writes these bytes at every cold start.
        with zipfile.ZipFile(site_packages / archive, "w") as zipped:
            # Directory entries too: zipimport finds a namespace package (no __init__) only by its entry.
            for path in sorted(staging.rglob("*")):
                member = path.relative_to(staging).as_posix() + ("/" if path.is_dir() else "")
                info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
                info.external_attr = (0o40755 if path.is_dir() else 0o100644) << 16
                stored = path.is_dir() or path.suffix == ".pyc"
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                zipped.writestr(info, b"" if path.is_dir() else path.read_bytes())
    (site_packages / f"{Path(archive).stem}.pth").write_text(f"{archive}\n")


def _distributions(python_dir: Path) -> dict[str, list[str]]:
    """Each installed distribution's top-level names in python_dir (its dist-info included), from its RECORD."""
    found = {}
    for record in sorted(python_dir.glob("*.dist-info/RECORD")):
        name = record.parent.name.split("-")[0].lower()
        tops = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines() if line}
        found[name] = sorted(top for top in tops if top not in ("..", "__pycache__", "bin"))
    return found


def zip_pure_python(python_dir: Path, archive: str) -> None:
    """Zips every distribution in python_dir that zipimport can load: not one with an extension module (a .so
    loads only from a file). An extension's dist-info goes in too (importlib.metadata reads it from the zip): every
    file left outside is one more member to extract at each local cold start. Those the runtime ships too
    (RUNTIME_ALSO_SHIPS) are left to it."""
    zipped = []
    for name, tops in _distributions(python_dir).items():
        if name in RUNTIME_ALSO_SHIPS:
            for path in (python_dir / top for top in tops):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            continue
        paths = [path for top in tops for path in [python_dir / top, *(python_dir / top).rglob("*")]]
        extension = any(path.suffix == ".so" for path in paths)
        zipped += [top for top in tops if not extension or top.endswith(".dist-info")]
    if zipped:
        zip_for_import(python_dir, zipped, archive)


@contextmanager
def layer_folder(output_dir: str, archived: bool) -> Iterator[Path]:
    """Where a bundler lays out its asset: output_dir itself, or with `archived` a staging folder then packed into
    output_dir as one zip that CDK uploads as it is (BundlingOutput.ARCHIVED), its members stored. CDK deflates a
    folder's asset, and MiniStack inflates every member of every layer at every cold start (the .so files and
    the import zips: megabytes); stored, extracting is a copy. Files only (extracting makes their folders),
    sorted, with fixed dates and each file's mode: the same bytes in every build."""
    if not archived:
        yield Path(output_dir)
        return
    with tempfile.TemporaryDirectory() as staging_dir:
        staging = Path(staging_dir)
        yield staging
        with zipfile.ZipFile(Path(output_dir) / LAYER_ARCHIVE, "w", zipfile.ZIP_STORED) as packed:
            for name in sorted(path.relative_to(staging).as_posix() for path in staging.rglob("*") if path.is_file()):
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.external_attr = (0o100000 | ((staging / name).stat().st_mode & 0o777)) << 16
                packed.writestr(info, (staging / name).read_bytes())


# Never run: local bundling always succeeds or fails loudly. CDK requires an image in BundlingOptions.
_UNUSED_IMAGE = DockerImage.from_registry("public.ecr.aws/sam/build-python3.12")


@jsii.implements(ILocalBundling)
class PipInstall:
    """pip-installs a pinned requirements file for the Lambda platform (manylinux x86_64, CPython 3.12); with
    `zipped`, its pure-Python packages then go into one zip (zip_pure_python) and the layer into one stored
    archive (layer_folder)."""

    def __init__(self, requirements: Path, zipped: bool):
        self.requirements, self.zipped = requirements, zipped

    def try_bundle(self, output_dir: str, *, image=None, **_options) -> bool:
        with layer_folder(output_dir, archived=self.zipped) as layer:
            self._install(layer / "python")
        return True

    def _install(self, target: Path) -> None:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--requirement", str(self.requirements), "--target", str(target),
                "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
                "--implementation", "cp", "--python-version", "3.12", "--only-binary=:all:", "--no-compile",
            ],
            check=True,
        )  # fmt: skip
        if self.zipped:
            zip_pure_python(target, f"chirp-{self.requirements.parent.name}.zip")
        compile_bytecode(target)


@jsii.implements(ILocalBundling)
class CopyPackage:
    """Copies a source folder into the asset (under `under`, e.g. a layer's python/), with fresh bytecode; with
    `zipped_as`, as that zip for zipimport (zip_for_import: `under` is then python/<package>), in a stored
    archive (layer_folder)."""

    def __init__(self, package_dir: Path, under: str, zipped_as: str | None = None):
        self.package_dir, self.under, self.zipped_as = package_dir, under, zipped_as

    def try_bundle(self, output_dir: str, *, image=None, **_options) -> bool:
        with layer_folder(output_dir, archived=self.zipped_as is not None) as folder:
            target = folder / self.under
            shutil.copytree(
                self.package_dir, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True
            )
            if self.zipped_as:
                zip_for_import(target.parent, [target.name], self.zipped_as)
            else:
                compile_bytecode(target)
        return True


def _layer_hash(sources: bytes, zipped: bool) -> str:
    """A layer bundle's asset hash: what it is built from, this module (how), and the mode, so that a stage
    building files never reuses a bundle of zips (nor one cached by the sources alone after a change here)."""
    return hashlib.sha256(sources + Path(__file__).read_bytes() + (b"zipped" if zipped else b"files")).hexdigest()


def _output(zipped: bool) -> BundlingOutput:
    """A zipped layer's bundle is its archive (layer_folder), uploaded as it is; a files layer's, a folder."""
    return BundlingOutput.ARCHIVED if zipped else BundlingOutput.NOT_ARCHIVED


def dependencies_layer_code(name: str, zipped: bool) -> aws_lambda.Code:
    """The pinned packages of layers/<name>/requirements.txt; pure-Python ones in one zip if `zipped`."""
    folder = ROOT / "layers" / name
    return aws_lambda.Code.from_asset(
        str(folder),
        asset_hash=_layer_hash((folder / "requirements.txt").read_bytes(), zipped),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=_UNUSED_IMAGE, local=PipInstall(folder / "requirements.txt", zipped), output_type=_output(zipped)
        ),
    )


DOMAIN_PACKAGE = ROOT / "shared" / "chirp"
DOMAIN_ARCHIVE = "chirp-domain.zip"
_SOURCES_ONLY = ["__pycache__", "*.pyc"]


def domain_layer_code(zipped: bool) -> aws_lambda.Code:
    """shared/chirp, as one zip (zip_for_import) if `zipped`, else as files in python/."""
    return aws_lambda.Code.from_asset(
        str(DOMAIN_PACKAGE),
        exclude=_SOURCES_ONLY,
        asset_hash=_layer_hash(FileSystem.fingerprint(str(DOMAIN_PACKAGE), exclude=_SOURCES_ONLY).encode(), zipped),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=domain_bundler(zipped), output_type=_output(zipped)),
    )


def domain_bundler(zipped: bool) -> CopyPackage:
    return CopyPackage(
        DOMAIN_PACKAGE, under=f"python/{DOMAIN_PACKAGE.name}", zipped_as=DOMAIN_ARCHIVE if zipped else None
    )


def function_code(folder: Path) -> aws_lambda.Code:
    """A function's own folder, compiled like the layers."""
    return aws_lambda.Code.from_asset(
        str(folder),
        exclude=_SOURCES_ONLY,
        bundling=BundlingOptions(image=_UNUSED_IMAGE, local=CopyPackage(folder, under=".")),
    )
