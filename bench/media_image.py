"""Image upload -> ready through the deployed local cloud, over HTTP: POST /media, the presigned PUT of a 12 MP
JPEG (4000 x 3000, structure under grain, about 3.3 MB), then GET /media/{id} every 50 ms until the
transcoder has recorded it ready. Baseline in the same run: the same path for a 64 x 64 PNG (the fixed cost of
the S3 notification, the Lambda invocation and the polls). Also the bytes of the variants against the source's,
and the objects written per image (a count that does not depend on the machine).

The user's rate limit is raised for the run (SSM overrides) and restored at the end.

Usage: .venv/bin/python bench/media_image.py [--images 20]
"""

from __future__ import annotations

import argparse
import io
import time

import cloud
import report
import requests
from PIL import Image, ImageChops
from report import table
from stats import median, percentile

from localstack.api_client import Accounts, User

NAME = "media_image"
POLL_S = 0.05
TIMEOUT_S = 60


def photo(width: int = 4000, height: int = 3000, seed: int = 0) -> bytes:
    """A JPEG that compresses like a phone's photo (about 3.3 MB at 12 MP): structure (a Mandelbrot set, gradients)
    under sensor-like grain, not a flat colour (which compresses to nothing) nor pure noise (which never does)."""
    structure = Image.effect_mandelbrot((width, height), (-2.2 + seed / 10, -1.2, 1.0, 1.2), 100)
    gradient = Image.linear_gradient("L").resize((width, height))
    grain = Image.effect_noise((width, height), 6)
    channels = [ImageChops.add(c, grain, offset=-128) for c in (structure, gradient, gradient.rotate(180))]
    out = io.BytesIO()
    Image.merge("RGB", channels).save(out, format="JPEG", quality=90)
    return out.getvalue()


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def upload_to_ready(user: User, data: bytes, content_type: str) -> tuple[float, dict]:
    """Seconds from asking for the ticket to GET /media/{id} answering ready, and that last answer."""
    started = time.perf_counter()
    ticket = user.call("POST", "/media", json={"content_type": content_type, "size_bytes": len(data)}).json()
    put = requests.put(ticket["upload_url"], data=data, headers=ticket["headers"], timeout=60)
    if put.status_code != 200:
        raise RuntimeError(f"upload refused: {put.status_code} {put.text[:200]}")
    while time.perf_counter() - started < TIMEOUT_S:
        status = user.call("GET", f"/media/{ticket['media_id']}").json()
        if status["status"] != "processing":
            if status["status"] != "ready":
                raise RuntimeError(f"not ready: {status}")
            return time.perf_counter() - started, status
        time.sleep(POLL_S)
    raise RuntimeError(f"media {ticket['media_id']} still processing after {TIMEOUT_S} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    args = parser.parse_args()

    env = cloud.cloud_env()
    accounts = Accounts(env)
    user = accounts.create("bmi")
    accounts.raise_limits([user])
    try:
        upload_to_ready(user, tiny_png(), "image/png")  # warms the transcoder (a cold start is not the figure)
        small = [upload_to_ready(user, tiny_png(), "image/png")[0] for _ in range(args.images)]
        photos = [photo(seed=i % 3) for i in range(3)]
        timings, saved = [], []
        for i in range(args.images):
            data = photos[i % len(photos)]
            seconds, status = upload_to_ready(user, data, "image/jpeg")
            timings.append(seconds)
            sizes = {name: len(requests.get(url, timeout=60).content) for name, url in status["urls"].items()}
            saved.append({"source": len(data), **sizes})
            print(f"image {i + 1}/{args.images}: {seconds * 1000:.0f} ms, source {len(data):,} B, variants {sizes}")
    finally:
        accounts.restore_limits([user])
    p50, p95 = median(timings), percentile(timings, 95)
    small_p50, small_p95 = median(small), percentile(small, 95)
    source = median(s["source"] for s in saved)
    variants = {name: median(s[name] for s in saved) for name in saved[0] if name != "source"}
    variant_total = sum(variants.values())
    print()
    print(
        table(
            ["upload -> ready", "p50 ms", "p95 ms"],
            [
                ["12 MP JPEG", f"{p50 * 1000:.0f}", f"{p95 * 1000:.0f}"],
                ["64 x 64 PNG (baseline)", f"{small_p50 * 1000:.0f}", f"{small_p95 * 1000:.0f}"],
            ],
        )
    )
    print(f"\nbytes: source {source:,.0f}; variants {', '.join(f'{k} {v:,.0f}' for k, v in variants.items())}")
    print(f"all variants together: {variant_total / source:.1%} of the source ({1 - variant_total / source:.1%} saved)")
    report.write_result(
        NAME,
        {
            "baseline": {
                "what": "upload -> ready of a 64 x 64 PNG, same path",
                "p50_ms": round(small_p50 * 1000),
                "p95_ms": round(small_p95 * 1000),
            },
            "images": args.images,
            "source": {"width": 4000, "height": 3000, "format": "JPEG quality 90", "median_bytes": round(source)},
            "upload_to_ready_ms": {
                "p50": round(p50 * 1000),
                "p95": round(p95 * 1000),
                "runs": [round(t * 1000) for t in timings],
            },
            "variant_median_bytes": {name: round(v) for name, v in variants.items()},
            "variants_share_of_source": round(variant_total / source, 4),
            "objects_written_per_image": len(variants),
            "headline": [
                report.headline(
                    "image upload -> ready, 12 MP JPEG (p50 / p95)",
                    f"{p50 * 1000:,.0f} / {p95 * 1000:,.0f} ms ({p50 / small_p50:.1f}x the fixed path)",
                    f"64 x 64 PNG: {small_p50 * 1000:,.0f} / {small_p95 * 1000:,.0f} ms",
                ),
                report.headline(
                    "image variants' bytes (orig <= 4096 px, medium 680, thumb 150 square; WebP)",
                    f"{variant_total / source:.1%} of the source together ({1 - variant_total / source:.1%} saved); "
                    f"orig alone {variants['orig'] / source:.1%}; {len(variants)} objects per image",
                    f"the 12 MP JPEG source, {source / 1e6:.1f} MB",
                ),
            ],
        },
    )


if __name__ == "__main__":
    main()
