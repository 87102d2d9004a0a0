"""Benchmark: prepare's throughput and peak memory on a full-size OpenR1-shaped Parquet file.

Writes a file shaped like OpenR1-Math-220k's default config (94k rows, row groups of 1000,
two reasoning traces of 20k-40k characters per row in `generations`, the first correct one
again in `messages`), then runs `stages/prepare.py` on it in a child process for each
training target and prints rows/s and the child's peak RSS. Target: under 2 GB peak.

    .venv/bin/python benchmarks/bench_prepare.py --rows 94000
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from mathtune.core.schema import OPENR1_SCHEMA
from mathtune.curriculum.rows import generate_row

ROOT = Path(__file__).resolve().parents[1]
ROW_GROUP_ROWS = 1000
FILLER = "Let me double-check this step before going on. " * 1000  # 48k characters
TARGET_PEAK_MB = 2048


def lengthen_row(row: dict, rng: random.Random) -> dict:
    """Pad each trace's reasoning to 20k-40k characters, as R1 traces of 4k-16k tokens are."""
    traces = [
        trace.replace("<think>\n", "<think>\n" + FILLER[: rng.randint(20_000, 40_000)], 1)
        for trace in row["generations"]
    ]
    first = row["correctness_math_verify"].index(True)
    messages = [row["messages"][0], {"content": traces[first], "role": "assistant"}]
    return row | {"generations": traces, "messages": messages}


def write_openr1_file(path: Path, rows: int) -> None:
    rng = random.Random(0)
    with pq.ParquetWriter(path, OPENR1_SCHEMA) as writer:
        for start in range(0, rows, ROW_GROUP_ROWS):
            group = [
                lengthen_row(generate_row(seed=0, index=index), rng)
                for index in range(start, min(start + ROW_GROUP_ROWS, rows))
            ]
            writer.write_table(pa.Table.from_pylist(group, schema=OPENR1_SCHEMA))


def decoded_mb(path: Path) -> float:
    """Size of the file's data after decompression, from the Parquet footer."""
    metadata = pq.ParquetFile(path).metadata
    groups = (metadata.row_group(index) for index in range(metadata.num_row_groups))
    return sum(group.total_byte_size for group in groups) / 2**20


def own_peak_mb() -> float:
    """This process's peak RSS (VmHWM); its ru_maxrss would include its own parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # in kB
    raise RuntimeError("/proc/self/status has no VmHWM line (this benchmark needs Linux)")


def run_child(command: list[str], workdir: Path, name: str) -> tuple[float, float]:
    """Run `command`; return its (seconds, peak RSS in MB), stopping the benchmark if it fails.

    os.wait4 gives this child's own peak; RUSAGE_CHILDREN would be the largest over all
    children. Linux carries the parent's RSS at fork into the child's peak, so the parent
    stays small and the file is written by a child too.
    """
    with open(workdir / f"stderr-{name}.txt", "w") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit((workdir / f"stderr-{name}.txt").read_text())
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def write_params(workdir: Path, data: Path, target: str) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["prepare"] |= {
        "source": "local",
        "local_files": [str(data)],
        "target": target,
        "decontaminate_against": [],
    }
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=94_000, help="rows in the generated file")
    parser.add_argument("--targets", nargs="+", default=["solution", "trace"])
    parser.add_argument("--write-only", type=Path, help="(internal) write the file and exit")
    args = parser.parse_args()
    if args.write_only:
        write_openr1_file(args.write_only, args.rows)
        return
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as folder:
        workdir, data = Path(folder), Path(folder) / "openr1.parquet"
        writer = [sys.executable, __file__, "--rows", str(args.rows), "--write-only", str(data)]
        seconds, peak_mb = run_child(writer, workdir, "create")
        print(f"create_file_seconds: {seconds:.1f}")
        print(f"create_file_peak_rss_mb: {peak_mb:.0f}")
        print(f"file_rows: {args.rows}")
        print(f"file_mb: {data.stat().st_size / 2**20:.0f}")
        print(f"file_decoded_mb: {decoded_mb(data):.0f} (OpenR1 default: about 5 GB)")
        print(f"file_row_groups: {pq.ParquetFile(data).num_row_groups}")
        stage = [sys.executable, str(ROOT / "stages" / "prepare.py"), "--out-dir", "out"]
        for target in args.targets:
            write_params(workdir, data, target)
            seconds, peak_mb = run_child(
                [*stage, "--metrics", "m.json", "--stats", "s.json"], workdir, target
            )
            print(f"prepare_{target}_seconds: {seconds:.1f}")
            print(f"prepare_{target}_rows_per_s: {args.rows / seconds:.0f}")
            print(f"prepare_{target}_peak_rss_mb: {peak_mb:.0f} (target < {TARGET_PEAK_MB})")
        print(f"bench_parent_peak_rss_mb: {own_peak_mb():.0f} (at most this much of each is ours)")


if __name__ == "__main__":
    main()
