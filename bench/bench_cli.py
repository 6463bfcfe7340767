"""Command-line benchmark: `warroom log`, `warroom show` and `warroom export --format markdown`
on 100,000 entries, each process timed from spawn to exit, side by side with the stdlib doing the
same work in a plain Python process, in interleaved runs.

    python -m bench.bench_cli            # 15 logs, 5 shows and exports each
    python -m bench.bench_cli --smoke    # 2,000 entries, 2 of each

* log: `warroom log ID text` (parse, one committed transaction, the number printed) against a
  `python -c` that opens the file with sqlite3, sets synchronous=FULL and commits the same insert
  (next number, then INSERT: the schema's triggers run for both); and the same `log` for a user
  with a config file (a name and two delivery targets, read and checked as every command does).
* show / export: the command writing to a file, against a Python loop that reads every entry with
  sqlite3 and writes one line per entry. Time, and peak RSS (the child's ru_maxrss): the memory
  at 100,000 entries beside the same command at 1,000 says whether it grows with the incident.

Targets (issue 14): log <= 3x the stdlib write; show and export <= 3x the stdlib loop, and memory
that does not grow with the incident.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench import table
from bench.scale import ScaleIncident

STDLIB_WRITE = r'''
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA busy_timeout = 15000")
conn.execute("PRAGMA synchronous = FULL")
conn.execute("BEGIN IMMEDIATE")
number = conn.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM entries WHERE incident_id = ?", (sys.argv[2],)).fetchone()[0]
conn.execute("INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text)"
             " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'), strftime('%Y-%m-%dT%H:%M:%fZ'), 'bench', 'note', ?)",
             (sys.argv[2], number, sys.argv[3]))
conn.execute("COMMIT")
print(number)
'''
STDLIB_LOOP = r'''
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
with open(sys.argv[3], "w", encoding="utf-8") as out:
    for number, occurred, kind, author, text in conn.execute(
            "SELECT number, occurred_at, kind, author, text FROM entries WHERE incident_id = ?"
            " ORDER BY occurred_at, number", (sys.argv[2],)):
        out.write(f"#{number} {occurred} {kind} {author} {text}\n")
'''


# A child's ru_maxrss counts the memory of the process it was forked from until its exec, so the
# children are started by this small launcher (a few MiB), not by the benchmark (tens of MiB).
LAUNCHER = r'''
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    out = open(job["stdout"], "wb") if job["stdout"] else subprocess.DEVNULL
    begin = time.perf_counter()
    process = subprocess.Popen(job["argv"], env=job["env"], stdout=out, stderr=subprocess.PIPE)
    error = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - begin
    if out is not subprocess.DEVNULL:
        out.close()
    print(json.dumps({"seconds": seconds, "rss_kib": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status),
                      "stderr": error[-400:].decode(errors="replace")}), flush=True)
'''


class Launcher:
    """Runs processes one at a time and reports (wall seconds from spawn to exit, peak RSS MiB)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def run(self, argv: list[str], env: dict[str, str], stdout: Path | None = None) -> tuple[float, float]:
        job = {"argv": argv, "env": env, "stdout": str(stdout) if stdout else None}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        result = json.loads(self.process.stdout.readline())
        if result["code"]:
            raise RuntimeError(f"{argv[:4]} failed: {result['stderr']}")
        return result["seconds"], result["rss_kib"] / 1024

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


TEAM_CONFIG = """\
# what a team's config file holds: who I am, and where updates go
user = "bench"

[[target]]
kind = "slack"
name = "incident channel"
audiences = ["internal"]
url_env = "BENCH_SLACK_URL"

[[target]]
kind = "statusfile"
name = "status page"
audiences = ["public"]
directory = "status"
"""


def _team_config(folder: Path) -> Path:
    """A config folder with TEAM_CONFIG in it (the user's own config: read and checked by `log`)."""
    config = folder / "team-config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text(TEAM_CONFIG, encoding="utf-8")
    return config


def measure(entries: int, logs: int, reads: int) -> dict[str, list[tuple[float, float]]]:
    results: dict[str, list[tuple[float, float]]] = {}

    def note(name: str, figure: tuple[float, float]) -> None:
        results.setdefault(name, []).append(figure)

    launcher = Launcher()
    run = launcher.run
    with ScaleIncident(entries=entries, probes=50) as big, ScaleIncident(entries=1_000, probes=50) as small:
        python = sys.executable
        configured = {**big.env, "WARROOM_CONFIG_DIR": str(_team_config(big.folder))}
        for index in range(logs):
            note("log", run(big.warroom_argv("log", big.incident_id, f"bench note {index}"), big.env))
            note("log configured", run(big.warroom_argv("log", big.incident_id, f"configured note {index}"),
                                       configured))
            note("log floor", run([python, "-c", STDLIB_WRITE, str(big.database), big.incident_id,
                                   f"stdlib note {index}"], big.env))
        for index in range(reads):
            for scale, size in ((big, "big"), (small, "small")):
                out = scale.folder / "out.txt"
                note(f"show {size}", run(scale.warroom_argv("show", scale.incident_id), scale.env, out))
                note(f"export {size}", run(scale.warroom_argv("export", scale.incident_id, "--format", "markdown",
                                                              "-o", str(out)), scale.env))
                note(f"floor {size}", run([python, "-c", STDLIB_LOOP, str(scale.database), scale.incident_id,
                                           str(out)], scale.env))
    launcher.close()
    return results


def report(results: dict[str, list[tuple[float, float]]], entries: int, smoke: bool) -> None:
    def median(name: str, index: int) -> float:
        return statistics.median(figure[index] for figure in results[name])

    rows = [
        table.add("`warroom log ID text`", median("log", 0), median("log floor", 0), "s",
                  "stdlib committed write", max_ratio=3.0, smoke=smoke),
        table.add("`warroom log ID text`, with a config file", median("log configured", 0), median("log floor", 0),
                  "s", "stdlib committed write", max_ratio=3.0, smoke=smoke),
    ]
    for command, label in (("show", f"`warroom show`, {entries:,} entries"),
                           ("export", f"`export --format markdown`, {entries:,}")):
        rows.append(table.add(label, median(f"{command} big", 0), median("floor big", 0), "s",
                              "stdlib loop, a line per entry", max_ratio=3.0, smoke=smoke))
        rows.append(table.add(f"{label}: peak RSS", median(f"{command} big", 1), median(f"{command} small", 1),
                              "MiB", "same at 1,000 entries", max_ratio=1.15, smoke=smoke))
    rows.append(table.add("stdlib loop peak RSS (for scale)", median("floor big", 1), median("floor small", 1), "MiB",
                          "same at 1,000 entries", smoke=smoke))
    for row in rows:
        print(f"{row.path}: {row.ours:.3f} {row.unit} vs {row.peer_name} {row.peer:.3f} {row.unit}: "
              f"{row.ratio:.2f}x", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="2,000 entries, two of each")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=15)
    parser.add_argument("--reads", type=int, default=5)
    args = parser.parse_args(argv)
    entries, logs, reads = (2_000, 2, 2) if args.smoke else (args.entries, args.logs, args.reads)
    report(measure(entries, logs, reads), entries, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
