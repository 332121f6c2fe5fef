"""The video transcoder's code, unpacked as Lambda unpacks it, fits Lambda's 250 MB limit: its layers are built
exactly as the deploy builds them (pip for the Lambda platform, bytecode compiled), zipped as the local stage
builds them and as files as an AWS stage does, and measured on disk."""

from __future__ import annotations

from pathlib import Path

from infra.bundling import CopyPackage
from infra.catalog import FUNCTIONS

LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MiB: a function and all its layers, unzipped (MiniStack refuses it too)


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def test_given_the_video_transcoder_when_its_layers_are_built_then_it_all_unzips_under_lambdas_limit(
    tmp_path, layers_by_mode
):
    _, built_layers = layers_by_mode
    (spec,) = [spec for spec in FUNCTIONS if spec.name == "video_transcoder"]
    sizes = {layer: _size(built_layers[layer]) for layer in ("deps", "domain", *spec.extra_layers)}
    CopyPackage(spec.code_dir, under=".").try_bundle(str(tmp_path / "code"))
    sizes["code"] = _size(tmp_path / "code")
    print({name: f"{size / 1e6:.1f} MB" for name, size in sizes.items()}, f"total {sum(sizes.values()) / 1e6:.1f} MB")
    assert sum(sizes.values()) < LAMBDA_UNZIPPED_LIMIT
