"""Bytes shipped per host on redeploy: the same revision again, and after a 10-file change,
as a share of the artifact (goal: under 0.2 %, no more than a git-fetch-based redeploy).
Run as root: python bench/delta.py"""

from __future__ import annotations

from farm_common import bench_lab, run


def shipped(bench, label: str, artifact_bytes: int) -> None:
    result = run(bench, bench.env())
    if result.error:
        raise SystemExit(f"{label}: {result.error}")
    for host, sent in sorted(result.sent_bytes().items()):
        print(f"{label:<28} {host:<6} {sent:>10,} bytes  {100 * sent / artifact_bytes:6.3f} % of the artifact")


def main() -> None:
    with bench_lab(3, vendor=True) as bench:
        size = bench.artifact.stat().st_size
        print(f"artifact: {size:,} bytes")
        first = run(bench, bench.env())
        assert first.error is None, first.error
        print(f"{'first deploy (full upload)':<28} every  {size:>10,} bytes  100.000 % of the artifact")
        shipped(bench, "same revision again", size)
        bench.change_files(10)
        bench.commit_and_build("bench: 10 files changed")
        shipped(bench, "after a 10-file change", bench.artifact.stat().st_size)


if __name__ == "__main__":
    main()
