"""Run every benchmark: `python -m bench` (full) or `python -m bench --smoke` (quick, for CI).

Each benchmark module runs its subject side by side with a peer in one process run and reports
ratios; at the end one table (bench.table) puts every path beside its floor or peer. `--only NAME` runs one of them. The smoke mode only proves that each benchmark still
runs end to end; its figures are not meaningful.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

BENCHMARKS = ("bench_startup", "bench_latency", "bench_cli", "bench_procedures", "bench_paste", "bench_probes",
              "bench_refresh", "bench_replay", "bench_serve", "bench_sqlite_sync", "bench_stats", "bench_team",
              "bench_timeline")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, just check they run")
    parser.add_argument("--only", choices=BENCHMARKS, help="run one benchmark")
    args = parser.parse_args(argv)
    names = [args.only] if args.only else list(BENCHMARKS)
    failures = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        code = module.main(["--smoke"] if args.smoke else [])
        print(f"-- {name}: exit {code}, {time.perf_counter() - started:.1f} s wall\n", flush=True)
        failures += 1 if code else 0
    from bench import table

    if table.ROWS:
        print("== every path beside its floor or peer ==")
        print(table.render(), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
