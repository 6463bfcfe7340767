"""Probe engine benchmark: N http probes at a 5 s interval against a loopback server, side by side
with prometheus-blackbox-exporter probing the same targets at the same rate.

    python -m bench.bench_probes            # N = 100, 500, 1000 for 60 s each (about 7 minutes)
    python -m bench.bench_probes --smoke    # N = 20 for 6 s

For each N, two phases run one after the other in the same invocation, against the same target
server (warroom.probes.demo_service in its own process, /healthy?i=K, one URL per probe):

* warroom: a ProbeEngine in this process storing every result in a SQLite file in batches, as the
  war room does. Lateness = actual start - due time of each check; CPU = this process's
  user+system time during the phase (the target runs elsewhere).
* blackbox: the exporter (Debian package) in its own process, driven by a small fixed-rate loop in
  a third process that scrapes /probe?target=...&module=http_2xx for each probe once per interval,
  as Prometheus would. CPU = the exporter's utime+stime from /proc/PID/stat. Lateness is the
  driver's (the exporter itself does not schedule).

warroom keeps connections alive across checks; blackbox_exporter opens one per probe (that is how
each works). Targets from the issue: warroom's lateness p99 < 250 ms at 1000 probes; CPU per
probe no worse than blackbox_exporter's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXPORTER = "prometheus-blackbox-exporter"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_of(pid: int) -> float:
    """utime + stime of a process, seconds (fields 14 and 15 of /proc/PID/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def targets(base: str, count: int) -> list[str]:
    return [f"{base}/healthy?i={index}" for index in range(count)]


# -- warroom phase ------------------------------------------------------------------------------
async def run_warroom(base: str, count: int, interval: float, duration: float, workdir: Path) -> dict:
    """The engine as the war room runs it: results stored in batches in a SQLite database."""
    from warroom.probes import ProbeEngine, make_http_probe
    from warroom.store import open_database
    from warroom.store.probes import ProbeStore

    specs = [
        make_http_probe(f"p{index:04d}", url, interval=f"{interval:g}s", conditions=["status == 200"])
        for index, url in enumerate(targets(base, count))
    ]
    latencies: list[float] = []
    failures = 0

    db = await open_database(workdir / f"bench-{count}.db")
    store = ProbeStore(db)

    async def sink(batch) -> None:
        nonlocal failures
        for result in batch:
            if result.latency_ms is not None:
                latencies.append(result.latency_ms)
            failures += not result.ok
        await store.insert_results(batch)

    engine = ProbeEngine(specs, on_results=sink, jitter_max=interval, seed=1)
    cpu_before, wall_before = cpu_self(), time.perf_counter()
    await engine.start()
    await asyncio.sleep(duration)
    await engine.stop()
    cpu, wall = cpu_self() - cpu_before, time.perf_counter() - wall_before
    async with db.conn.execute("SELECT count(*) FROM probe_results") as cursor:
        stored = (await cursor.fetchone())[0]
    await db.close()
    lateness = engine.lateness_ms()
    checks = engine.stats["checks"]
    return {
        "checks": checks, "stored": stored, "failures": failures, "cpu_s": cpu, "wall_s": wall,
        "cpu_per_1000": cpu / checks * 1000 if checks else float("nan"),
        "lateness_p50_ms": percentile(lateness, 50), "lateness_p99_ms": percentile(lateness, 99),
        "lateness_max_ms": max(lateness, default=float("nan")),
        "latency_p50_ms": percentile(latencies, 50), "latency_p99_ms": percentile(latencies, 99),
        "skipped_slots": engine.stats["skipped_slots"],
    }


# -- blackbox phase -----------------------------------------------------------------------------
async def drive(exporter: str, base: str, count: int, interval: float, duration: float) -> dict:
    """Scrape the exporter once per interval per target, fixed rate, spread over the interval."""
    import aiohttp

    lateness: list[float] = []
    latencies: list[float] = []
    counts = {"scrapes": 0, "success": 0, "errors": 0}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    end = start + duration
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(index: int, url: str) -> None:
            due = start + interval * index / count
            while due < end:
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                began = loop.time()
                lateness.append((began - due) * 1000)
                try:
                    async with session.get(f"{exporter}/probe", params={"target": url, "module": "http_2xx"},
                                           timeout=aiohttp.ClientTimeout(total=interval)) as response:
                        text = await response.text()
                    counts["scrapes"] += 1
                    counts["success"] += "\nprobe_success 1" in text
                except Exception:
                    counts["errors"] += 1
                latencies.append((loop.time() - began) * 1000)
                due += interval
                while due < loop.time() - interval:  # skip missed slots, like the engine
                    due += interval

        await asyncio.gather(*(one(i, url) for i, url in enumerate(targets(base, count))))
    return {
        **counts, "failures": counts["errors"] + counts["scrapes"] - counts["success"], "driver_cpu_s": cpu_self(),
        "lateness_p50_ms": percentile(lateness, 50), "lateness_p99_ms": percentile(lateness, 99),
        "latency_p50_ms": percentile(latencies, 50), "latency_p99_ms": percentile(latencies, 99),
    }


def start_exporter(workdir: Path) -> tuple[subprocess.Popen, str] | None:
    binary = shutil.which(EXPORTER)
    if binary is None:
        return None
    config = workdir / "blackbox.yml"
    config.write_text(
        "modules:\n  http_2xx:\n    prober: http\n    timeout: 4s\n    http:\n"
        "      preferred_ip_protocol: ip4\n      valid_status_codes: [200]\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            if process.poll() is not None:
                return None
            time.sleep(0.05)
    process.kill()
    return None


def run_blackbox(process: subprocess.Popen, exporter: str, base: str, count: int, interval: float,
                 duration: float) -> dict:
    before = cpu_of(process.pid)
    driver = subprocess.run(
        [sys.executable, "-m", "bench.bench_probes", "--driver", exporter, base, str(count), str(interval),
         str(duration)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )
    cpu = cpu_of(process.pid) - before
    found = json.loads(driver.stdout.strip().splitlines()[-1])
    found["cpu_s"] = cpu
    found["cpu_per_1000"] = cpu / found["scrapes"] * 1000 if found["scrapes"] else float("nan")
    return found


# -- report -------------------------------------------------------------------------------------
def _fmt(value: float, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def report(count: int, ours: dict, theirs: dict | None) -> str:
    rows = [
        ("checks done", "checks", "scrapes", 0),
        ("results stored (SQLite)", "stored", "-", 0),
        ("failed checks", "failures", "failures", 0),
        ("lateness p50 (ms)", "lateness_p50_ms", "lateness_p50_ms", 2),
        ("lateness p99 (ms)", "lateness_p99_ms", "lateness_p99_ms", 2),
        ("check latency p50 (ms)", "latency_p50_ms", "latency_p50_ms", 2),
        ("check latency p99 (ms)", "latency_p99_ms", "latency_p99_ms", 2),
        ("CPU seconds", "cpu_s", "cpu_s", 2),
        ("CPU s per 1000 probes", "cpu_per_1000", "cpu_per_1000", 3),
    ]
    lines = [f"\nN = {count} probes", f"  {'':24} {'warroom':>12} {'blackbox':>12} {'ratio w/b':>10}"]
    for label, mine, other, digits in rows:
        a = ours.get(mine)
        b = theirs.get(other) if theirs else None
        ratio = _fmt(a / b, 2) if a is not None and b and not math.isnan(a) and not math.isnan(b) else "-"
        lines.append(f"  {label:24} {_fmt(a, digits):>12} {_fmt(b, digits):>12} {ratio:>10}")
    if theirs:
        lines.append("  (blackbox lateness is its driver's; the exporter's CPU includes serving the scrapes)")
    return "\n".join(lines)


async def _warroom_phase(base: str, count: int, interval: float, duration: float, workdir: Path) -> dict:
    return await run_warroom(base, count, interval, duration, workdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="N = 20 for 6 s")
    parser.add_argument("--sizes", default="100,500,1000")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--no-blackbox", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--driver", nargs=5, metavar=("EXPORTER", "BASE", "N", "INTERVAL", "DURATION"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.driver:
        exporter, base, count, interval, duration = args.driver
        print(json.dumps(asyncio.run(drive(exporter, base, int(count), float(interval), float(duration)))))
        return 0
    sizes = [20] if args.smoke else [int(size) for size in args.sizes.split(",")]
    duration = 6.0 if args.smoke else args.duration
    target = subprocess.Popen([sys.executable, "-m", "warroom.probes.demo_service", "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    base = target.stdout.readline().strip()
    exporter = None
    figures: dict = {"interval_s": args.interval, "duration_s": duration, "cpus": os.cpu_count(), "runs": {}}
    with tempfile.TemporaryDirectory() as workdir:
        try:
            if not args.no_blackbox:
                exporter = start_exporter(Path(workdir))
                if exporter is None:
                    print(f"{EXPORTER} is not installed or did not start "
                          f"(apt-get update && apt-get install -y {EXPORTER}); reporting warroom only.")
            print(f"probe benchmark: interval {args.interval:g}s, {duration:g}s per phase, target {base}, "
                  f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}", flush=True)
            for count in sizes:
                ours = asyncio.run(_warroom_phase(base, count, args.interval, duration, Path(workdir)))
                theirs = run_blackbox(*exporter, base, count, args.interval, duration) if exporter else None
                figures["runs"][count] = {"warroom": ours, "blackbox": theirs}
                print(report(count, ours, theirs), flush=True)
        finally:
            if exporter:
                exporter[0].terminate()
                exporter[0].wait()
            target.terminate()
            target.wait()
    largest = figures["runs"][sizes[-1]]["warroom"]
    verdict = "met" if largest["lateness_p99_ms"] < 250 else "NOT met"
    print(f"\nlateness p99 at N={sizes[-1]}: {largest['lateness_p99_ms']:.2f} ms (target < 250 ms: {verdict})")
    peer = figures["runs"][sizes[-1]]["blackbox"]
    if peer and peer["cpu_per_1000"] == peer["cpu_per_1000"]:
        ratio = largest["cpu_per_1000"] / peer["cpu_per_1000"]
        print(f"CPU per probe at N={sizes[-1]}: {ratio:.2f} x blackbox_exporter's "
              f"(target <= 1: {'met' if ratio <= 1 else 'NOT met'})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
