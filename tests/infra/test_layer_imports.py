"""The layers as the deploy builds them load the way Lambda loads them. The local stage's: the pure-Python packages
(and the domain package) from one zip per layer, named in a .pth that the runtime's bootstrap processes
(infra/bundling.py), with valid bytecode beside every module; extension modules stay plain files. An AWS stage's:
every package as files. Every function's handler imports from either build; each stage's template ships its own."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from aws_cdk import App, Stack

from infra.bundling import (
    DOMAIN_ARCHIVE,
    DOMAIN_PACKAGE,
    LAMBDA_SYS_PATH,
    LAYER_ARCHIVE,
    RUNTIME_ALSO_SHIPS,
    RUNTIME_PACKAGES,
    SITE_PACKAGES,
    CopyPackage,
    dependencies_layer_code,
    domain_bundler,
    domain_layer_code,
)
from infra.catalog import FUNCTIONS, ROOT
from tests.infra.conftest import CDK_CONTEXT

DEPS_ARCHIVE = "chirp-deps.zip"
# Imports the handler as Lambda's init does, then says where the packages that matter came from.
IMPORT_HANDLER = (
    "import sys\ntask, opt, runtime, handler = sys.argv[1:5]\n"
    + LAMBDA_SYS_PATH
    + """
import importlib, json
importlib.import_module(handler.rsplit(".", 1)[0])
print(json.dumps({name: sys.modules[name].__file__ for name in ("chirp", "pydantic", "redis") if name in sys.modules}))
"""
)


def _archive(layer: Path, name: str) -> zipfile.ZipFile:
    site_packages = layer / SITE_PACKAGES
    assert (site_packages / f"{Path(name).stem}.pth").read_text().split() == [name]
    return zipfile.ZipFile(site_packages / name)


def test_given_the_dependency_layer_when_built_then_its_zip_holds_the_pure_packages_and_no_extension_module(
    built_layers,
):
    with _archive(built_layers["deps"], DEPS_ARCHIVE) as archive:
        members = archive.namelist()
    assert not [member for member in members if member.endswith(".so")]
    tops = {member.split("/")[0] for member in members}
    assert {"pydantic", "aws_lambda_powertools", "redis", "pynamodb", "aws_xray_sdk"} <= tops
    # What stays files: the packages of distributions with an extension module (their dist-info goes into the
    # zip). The distributions the runtime ships too are left to it (its copies would shadow them from a zip, which
    # comes after them on sys.path).
    python = built_layers["deps"] / "python"
    assert not list(python.glob("*.dist-info"))
    assert not [top for top in tops if top.split("-")[0].lower() in RUNTIME_ALSO_SHIPS]
    assert not {"urllib3", "dateutil", "jmespath", "six.py"} & {path.name for path in python.iterdir()}
    extension_dists = {"pydantic_core", "hiredis", "wrapt"}
    assert extension_dists <= {top.split("-")[0].lower() for top in tops if top.endswith(".dist-info")}
    for name in extension_dists:
        assert (python / name).is_dir(), name


def _pins(requirements: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in requirements.read_text().splitlines()]
    return dict(line.lower().replace("-", "_").split("==") for line in lines if "==" in line)


def test_given_what_the_zipped_layer_leaves_to_the_runtime_then_the_local_runtime_pins_the_same_versions():
    """The local stage's runtime is MiniStack's venv: the packages the zipped dependency layer leaves to it load
    there at the versions an AWS stage's layer ships as files."""
    layer = _pins(ROOT / "layers" / "deps" / "requirements.txt")
    local_runtime = _pins(ROOT / "localstack" / "requirements.txt")
    assert {name: local_runtime.get(name) for name in RUNTIME_ALSO_SHIPS} == {
        name: layer[name] for name in RUNTIME_ALSO_SHIPS
    }


def test_given_the_dependency_layer_when_loaded_then_its_extensions_versions_are_read_from_the_zip(built_layers):
    """An extension's dist-info is in the zip: importlib.metadata still finds it (and its pinned version)."""
    pins = dict(line.split("==") for line in (ROOT / "layers" / "deps" / "requirements.txt").read_text().split()
                if "==" in line)  # fmt: skip
    probe = (
        "import importlib.metadata as m\nprint(m.version('pydantic_core'), m.version('hiredis'), m.version('wrapt'))"
    )
    done = _run_with_layer(built_layers["deps"], probe)
    assert done.stdout.split() == [pins["pydantic-core"], pins["hiredis"], pins["wrapt"]]


def _bundle(built_layers: dict[str, Path], name: str) -> Path:
    """The archive a zipped layer was extracted from (tests/infra/conftest.py _build_layers)."""
    return built_layers[name].parent / "bundles" / name / LAYER_ARCHIVE


@pytest.mark.parametrize("layer", ["deps", "domain", "search", "media"])
def test_given_a_zipped_layer_when_bundled_then_its_asset_is_one_archive_of_stored_files(built_layers, layer):
    """What CDK uploads as it is (and MiniStack extracts at every cold start): nothing to inflate, no folder
    entries, sorted, dated 1980, so the same bytes in every build; the import zip named in the .pth is a member."""
    with zipfile.ZipFile(_bundle(built_layers, layer)) as archive:
        members = archive.infolist()
    names = [member.filename for member in members]
    assert names == sorted(names)
    assert {member.compress_type for member in members} == {zipfile.ZIP_STORED}
    assert not [name for name in names if name.endswith("/")]
    assert {member.date_time for member in members} == {(1980, 1, 1, 0, 0, 0)}
    assert f"{SITE_PACKAGES}/chirp-{layer}.zip" in names


@pytest.mark.parametrize(("layer", "archive_name"), [("deps", DEPS_ARCHIVE), ("domain", DOMAIN_ARCHIVE)])
def test_given_a_layer_zip_when_built_then_every_module_has_its_source_and_valid_bytecode_beside_it(
    built_layers, layer, archive_name
):
    with _archive(built_layers[layer], archive_name) as archive:
        members = set(archive.namelist())
        sources = sorted(member for member in members if member.endswith(".py"))
        assert sources
        assert not [member for member in members if "__pycache__" in member]
        # Bytecode stored (imports skip zlib), sources deflated (read only for tracebacks).
        types = {member.filename: member.compress_type for member in archive.infolist()}
        assert {types[source + "c"] for source in sources} == {zipfile.ZIP_STORED}
        assert {types[source] for source in sources} == {zipfile.ZIP_DEFLATED}
        for source in sources:
            bytecode = archive.read(source + "c")
            # Hash-based and unchecked (PEP 552 flags 0b01): valid whatever the entries' dates, and the hash is
            # the source's, so it is the module's own bytecode.
            assert bytecode[:4] == importlib.util.MAGIC_NUMBER, source
            assert int.from_bytes(bytecode[4:8], "little") == 0b01, source
            assert bytecode[8:16] == importlib.util.source_hash(archive.read(source)), source


def test_given_the_domain_layer_when_built_twice_then_its_archive_is_the_same_bytes(built_layers, tmp_path):
    domain_bundler(zipped=True).try_bundle(str(tmp_path))
    assert (tmp_path / LAYER_ARCHIVE).read_bytes() == _bundle(built_layers, "domain").read_bytes()


def _python() -> str:
    """The plain CPython 3.12 under the venv (run with -S: none of the venv's packages)."""
    return getattr(sys, "_base_executable", sys.executable)


def _run_with_layer(layer: Path, code: str) -> subprocess.CompletedProcess:
    """Runs `code` on a bare interpreter with one layer as /opt, sys.path as Lambda builds it."""
    prelude = "import sys\ntask = runtime = '/nonexistent'\nopt = sys.argv[1]\n" + LAMBDA_SYS_PATH
    done = subprocess.run(
        [_python(), "-S", "-E", "-c", prelude + code, str(layer)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _merged(layers: list[Path], opt: Path) -> Path:
    """/opt as Lambda extracts the layers into it, in order (a later layer wins)."""
    if not opt.exists():
        for layer in layers:
            shutil.copytree(layer, opt, dirs_exist_ok=True)
    return opt


def test_given_every_function_when_its_handler_is_imported_in_the_lambda_layout_then_it_loads_from_its_build(
    layers_by_mode, tmp_path
):
    """From the zipped build (the local stage's) its packages come from the zips; from the files build (an AWS
    stage's) from files, with no zip on the way."""
    mode, built = layers_by_mode
    # The runtime's own packages, from this venv, alone on one path (as /var/runtime's are).
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    site = Path(importlib.util.find_spec("boto3").origin).parent.parent
    for name in RUNTIME_PACKAGES:
        (runtime / name).symlink_to(site / name)
    loaded = {}
    for spec in FUNCTIONS:
        layers = ["deps", "domain", *spec.extra_layers]
        opt = _merged([built[layer] for layer in layers], tmp_path / "opt" / "-".join(layers))
        task = tmp_path / "task" / spec.name
        CopyPackage(spec.code_dir, under=".").try_bundle(str(task))
        env = {"PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": str(task), "AWS_REGION": "us-east-1"}
        done = subprocess.run(
            [_python(), "-S", "-E", "-c", IMPORT_HANDLER, str(task), str(opt), str(runtime), spec.handler],
            capture_output=True, text=True, env=env, cwd=task, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{spec.name}: {done.stderr[-2000:]}"
        loaded[spec.name] = json.loads(done.stdout.strip().splitlines()[-1])
    for name, files in loaded.items():
        if mode == "zipped":
            assert f"/{DOMAIN_ARCHIVE}/" in files["chirp"], name
            assert "pydantic" not in files or f"/{DEPS_ARCHIVE}/" in files["pydantic"], name
        else:
            assert files["chirp"].endswith("/python/chirp/__init__.py"), name
            assert not [path for path in files.values() if ".zip/" in path], name


def test_given_the_files_build_when_built_then_no_layer_has_a_zip_or_pth(built_file_layers):
    for name, layer in built_file_layers.items():
        assert not [path for path in layer.rglob("*") if path.suffix in (".zip", ".pth")], name


def _asset_key(code) -> str:
    """The S3 key a layer's code gets in a template: its asset hash."""
    return code.bind(Stack(App(context=CDK_CONTEXT), "Probe")).s3_location.object_key


def _layer_keys(template) -> dict[str, str]:
    layers = template.find_resources("AWS::Lambda::LayerVersion").values()
    return {layer["Properties"]["Description"]: layer["Properties"]["Content"]["S3Key"] for layer in layers}


def test_given_each_stage_when_synthesized_then_its_layers_are_built_in_its_mode(local_template, aws_template):
    """The local stage ships zips, an AWS stage files, as distinct assets (CDK never reuses one for the other)."""
    local, aws = _layer_keys(local_template), _layer_keys(aws_template)
    domain = "The chirp domain package (shared/chirp)"
    deps = "Pinned third-party packages (layers/deps/requirements.txt)"
    assert local[domain] == _asset_key(domain_layer_code(zipped=True))
    assert aws[domain] == _asset_key(domain_layer_code(zipped=False))
    assert local[deps] == _asset_key(dependencies_layer_code("deps", zipped=True))
    assert aws[deps] == _asset_key(dependencies_layer_code("deps", zipped=False))
    assert local.keys() == aws.keys()
    assert not set(local.values()) & set(aws.values())


def test_given_the_domain_package_loaded_from_its_zip_when_the_schema_digest_is_taken_then_it_is_the_modules(
    built_layers,
):
    """The deploy passes the digest of shared/chirp/search/schema.py; the search_schema function, importing it
    from the zip, must compute the same (it read its own __file__, which names a .pyc inside the archive)."""
    digest = "from chirp.search.schema import schema_digest\nprint(schema_digest())"
    done = _run_with_layer(built_layers["domain"], digest)
    expected = hashlib.sha256((DOMAIN_PACKAGE / "search" / "schema.py").read_bytes()).hexdigest()
    assert done.stdout.split() == [expected]


def test_given_the_search_layer_loaded_from_its_zip_when_certifi_is_asked_for_its_bundle_then_it_is_a_file(
    built_layers,
):
    """opensearch-py verifies OpenSearch's certificate on AWS with certifi's bundle: from a zip it must still be
    a readable file (certifi extracts it through importlib.resources)."""
    with _archive(built_layers["search"], "chirp-search.zip") as archive:
        assert "certifi/cacert.pem" in archive.namelist()
    done = _run_with_layer(built_layers["search"], "import certifi\nprint(open(certifi.where()).read().count('BEGIN'))")
    assert int(done.stdout) > 100  # the bundle's certificates
