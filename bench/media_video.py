"""Video transcoding cost: seconds of transcoding per second of 1080p30 input, for each rendition alone (360p, 720p,
1080p) and for all three in the one decoding pass the video transcoder makes, against decoding alone (the baseline,
measured in the same run); and the peak memory (max RSS) of the process doing it, at two input lengths (memory that
does not grow with the length is what lets the longest allowed video, 140 s, run in the function's memory).

Each measurement runs chirp.media.videos.transcode_video (the transcoder's own code) in a fresh process on a
synthetic source made with PyAV (tests/media_samples.py). No local cloud needed.

Usage: .venv/bin/python bench/media_video.py [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import report
from paths import ROOT
from report import table
from stats import median

NAME = "media_video"
PLANS = {
    "decode only": [],
    "360p": ["360p"],
    "720p": ["720p"],
    "1080p": ["1080p"],
    "all three": ["360p", "720p", "1080p"],
}


def child(source: str, renditions: list[str]) -> None:
    """Runs in the measured process: transcodes (or only decodes) the source, prints seconds and max RSS."""
    import av

    from chirp.media import videos

    started = time.perf_counter()
    if renditions:
        videos.RENDITIONS = {name: int(name.removesuffix("p")) for name in renditions}
        with tempfile.TemporaryDirectory() as workdir:
            videos.transcode_video(Path(source), Path(workdir))
    else:
        with av.open(source) as container:
            for _ in container.decode(video=0):
                pass
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure(source: Path, renditions: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(source), *renditions],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT}"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the 1080p30 source")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1:])
        return

    sys.path.insert(0, str(ROOT))
    from tests.media_samples import video

    with tempfile.TemporaryDirectory() as scratch:
        source = video(Path(scratch) / "source.mp4", 1920, 1080, args.seconds)
        half = video(Path(scratch) / "half.mp4", 1920, 1080, args.seconds / 2)
        print(f"source: 1920x1080 at 30 fps with AAC sound, {args.seconds:g} s, {source.stat().st_size:,} bytes")
        results = {}
        for plan, renditions in PLANS.items():
            runs = [measure(source, renditions) for _ in range(args.runs)]
            seconds = median(r["seconds"] for r in runs)
            results[plan] = {
                "renditions": renditions,
                "runs_seconds": [round(r["seconds"], 3) for r in runs],
                "seconds_per_input_second": round(seconds / args.seconds, 3),
                "peak_rss_mb": round(max(r["max_rss_mb"] for r in runs), 1),
            }
            print(f"{plan}: {results[plan]['seconds_per_input_second']} s per s, {results[plan]['peak_rss_mb']} MB")
        shorter = measure(half, PLANS["all three"])
    baseline = results["decode only"]["seconds_per_input_second"]
    for entry in results.values():
        entry["ratio_to_decode_only"] = round(entry["seconds_per_input_second"] / baseline, 1)
    all_three = results["all three"]
    print()
    print(
        table(
            ["work", "s per s of input", "x decoding", "peak RSS MB"],
            [
                [plan, r["seconds_per_input_second"], r["ratio_to_decode_only"], r["peak_rss_mb"]]
                for plan, r in results.items()
            ],
        )
    )
    longest_s = 140 * all_three["seconds_per_input_second"]
    print(f"\nall three at half the length: peak RSS {shorter['max_rss_mb']:.1f} MB (vs {all_three['peak_rss_mb']} MB)")
    print(f"the longest allowed video (140 s of 1080p) at this rate: about {longest_s:.0f} s")
    report.write_result(
        NAME,
        {
            "baseline": {"what": "decoding the same 1080p source alone", **results["decode only"]},
            "source": {"width": 1920, "height": 1080, "fps": 30, "seconds": args.seconds, "audio": "aac stereo"},
            "runs": args.runs,
            "results": results,
            "peak_rss_mb_at_half_length": round(shorter["max_rss_mb"], 1),
            "longest_allowed_estimate_s": round(longest_s),
            "headline": [
                report.headline(
                    "video transcode, 1080p30 input, per rendition (s of work per s of input)",
                    ", ".join(f"{p} {results[p]['seconds_per_input_second']}" for p in ("360p", "720p", "1080p"))
                    + f"; all three in one pass {all_three['seconds_per_input_second']}"
                    + f" ({all_three['ratio_to_decode_only']}x decoding)",
                    f"decoding alone {baseline} s per s",
                ),
                report.headline(
                    "video transcode peak memory (all three renditions)",
                    f"{all_three['peak_rss_mb']} MB at {args.seconds:g} s of input, "
                    f"{shorter['max_rss_mb']:.0f} MB at {args.seconds / 2:g} s",
                    f"decoding alone {results['decode only']['peak_rss_mb']} MB",
                ),
            ],
        },
    )


if __name__ == "__main__":
    main()
