"""Load benchmark of the scoring API: latency of GET and POST at 1, 10 and 50 clients, and a soak.

    .venv/bin/python scripts/bench_serve.py               # on bench_data/build_100000's warehouse
    .venv/bin/python scripts/bench_serve.py --duckdb W --users 1 10 50 --seconds 60
    .venv/bin/python scripts/bench_serve.py --soak-minutes 10   # + 10 clients for 10 minutes

Reads the open leads of `scored_leads` and event templates from the warehouse (read-only,
before the server starts), starts `lead-scoring serve --duckdb W` on 127.0.0.1 (this venv's
`lead-scoring`, the environment passed through, so PYTHONPATH picks the code), waits for
GET /health, then runs locust headless (scripts/locustfile_serve.py, from .venv-bench) once per
endpoint and client count: GET /leads/{id}/score for a random open lead, POST
/leads/{id}/events with one new touchpoint. Endpoints run separately (one endpoint per locust
run), closed loop (no think time); a short mixed warm-up runs first and is not reported. With
--soak-minutes M, 10 clients (half GET, half POST by default) run for M minutes at the end.

The server writes its received events and CRM changes into the work folder
(bench_data/serve_bench/ by default; $LEAD_SCORING_RECEIVED_EVENTS and $LEAD_SCORING_SERVE_DIR
point there), never into the project's received_events/ or serve/, and runs with a random
bearer token ($LEAD_SCORING_API_TOKEN) that every request sends.

Per endpoint and client count: requests, errors, achieved requests/s, p50 / p95 / p99 / max in
ms (locust's CSV stats: percentiles are locust's, rounded to 2 significant digits above 100 ms),
the server's CPU use (% of one core) and resident memory (RSS of the server and its children,
from /proc, sampled every --rss-interval seconds for the whole run). Prints progress lines and
a final table; writes a JSON result (--out, default bench_data/serve_bench.json) and the table
as Markdown beside it. Exits 1 when any request failed or the server died; --strict also when a
target is missed (POST p95 at 10 clients above --p95-target-ms, or soak memory growth).
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lead_scoring.warehouse import open_warehouse

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCUSTFILE = PROJECT_DIR / "scripts" / "locustfile_serve.py"
DEFAULT_WAREHOUSE = PROJECT_DIR / "bench_data" / "build_100000" / "warehouse.duckdb"
DEFAULT_BENCH_VENV = PROJECT_DIR / ".venv-bench"
# the event types a benchmark POST carries, as many templates of each (seeds/event_types.csv)
EVENT_TYPES = ("page_view", "email_click", "demo_request", "content_download")
TEMPLATE_COLUMNS = (
    "event_type",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referrer_domain",
    "page_url",
    "asset_name",
    "duration_seconds",
)
# endpoint -> (locust user class, locust request name, label)
ENDPOINTS = {
    "get": ("GetScoreUser", "/leads/{id}/score", "GET /leads/{id}/score"),
    "post": ("PostEventUser", "/leads/{id}/events", "POST /leads/{id}/events"),
}
WORK_MARKER = ".bench_serve"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A benchmark that cannot run or went wrong: one line, no stack trace."""


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# ---------------------------------------------------------------- the plan (read before serving


def read_plan(warehouse: Path, templates_per_type: int, seed: int) -> dict:
    """Open leads, the batch's latest scored_at and event templates, from the built warehouse.

    Templates are real staged touchpoints of each benchmark event type (channel, UTMs, referrer,
    page, asset, duration as the data has them), sampled reproducibly; locust adds the ids and
    the time."""
    con = open_warehouse(warehouse, error=BenchError, hint="run `make bench-serve` first")
    try:
        try:
            lead_ids = [
                row[0]
                for row in con.execute(
                    "select lead_id from scored_leads order by lead_id"
                ).fetchall()
            ]
            latest = con.execute("select max(scored_at) from scored_leads").fetchone()[0]
        except duckdb.Error as exc:
            raise BenchError(f"{warehouse}: cannot read table scored_leads ({exc})") from None
        if not lead_ids or latest is None:
            raise BenchError(f"{warehouse}: scored_leads has no open lead to score")
        known = {
            row[0]
            for row in con.execute(
                "select event_type from event_types where is_raw_contract"
            ).fetchall()
        }
        missing = [name for name in EVENT_TYPES if name not in known]
        if missing:
            raise BenchError(
                f"seeds/event_types.csv (table event_types in {warehouse}) lacks the raw "
                f"event_type value(s) {missing} that the benchmark posts"
            )
        templates: list[dict] = []
        for event_type in EVENT_TYPES:
            rows = con.execute(
                f"""
                select * from (
                    select event_type, channel, utm_source, utm_medium, utm_campaign,
                           referrer_domain, page_path as page_url, asset_name, duration_seconds
                    from stg_web__touchpoints
                    where event_type = ?
                    order by event_id
                ) using sample reservoir({int(templates_per_type)} rows) repeatable ({int(seed)})
                """,
                [event_type],
            ).fetchall()
            if not rows:
                raise BenchError(
                    f"{warehouse}: stg_web__touchpoints has no event_type = '{event_type}' "
                    "to take a template from"
                )
            templates += [dict(zip(TEMPLATE_COLUMNS, row, strict=True)) for row in rows]
    finally:
        con.close()
    for template in templates:
        if template["duration_seconds"] is not None:
            template["duration_seconds"] = int(template["duration_seconds"])
    return {
        "lead_ids": lead_ids,
        "templates": templates,
        "base_occurred_at": latest.strftime("%Y-%m-%d %H:%M:%S.%f"),
    }


# ---------------------------------------------------------------- the server's memory and CPU


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    tree, todo, seen = _children(), [pid], []
    while todo:
        current = todo.pop()
        seen.append(current)
        todo += tree.get(current, [])
    return seen


def tree_usage(pid: int) -> tuple[float, float]:
    """(RSS in MB, CPU seconds used so far) of a process and its descendants, from /proc."""
    rss_kb, ticks = 0, 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss_kb += int(line.split()[1])
        fields = stat.rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return rss_kb / 1024, ticks / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS


class Sampler(threading.Thread):
    """Samples the server's RSS every `interval` seconds, labelled with the current phase."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.phase = "start"
        self.samples: list[tuple[float, str, float]] = []
        self.started = time.monotonic()
        self._stop_event = threading.Event()

    def sample(self) -> float:
        rss, _ = tree_usage(self.pid)
        self.samples.append((round(time.monotonic() - self.started, 1), self.phase, round(rss, 1)))
        return rss

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()

    def of(self, phase: str) -> list[tuple[float, float]]:
        return [(t, rss) for t, name, rss in self.samples if name == phase]


# ---------------------------------------------------------------- the server


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def get_json(url: str, token: str | None, timeout: float = 5.0) -> dict:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def exit_text(code: int) -> str:
    if code < 0:
        return f"was stopped by signal {signal.Signals(-code).name} (not sent by this script)"
    return f"exited with code {code}"


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_server(args, port: int, work: Path, token: str) -> tuple[subprocess.Popen, dict]:
    command = [
        part.format(bin=BIN, duckdb=args.duckdb, host=args.host, port=port)
        for part in args.server_command.split()
    ]
    env = {
        **os.environ,
        "LEAD_SCORING_DUCKDB": str(args.duckdb),
        "LEAD_SCORING_RECEIVED_EVENTS": str(work / "received_events"),
        "LEAD_SCORING_SERVE_DIR": str(work / "serve"),
        "LEAD_SCORING_API_TOKEN": token,
    }
    server_log = work / "server.log"
    log(f"starting the API: {' '.join(command)} (log: {server_log})")
    with server_log.open("w") as out:
        server = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{args.host}:{port}/health"
    deadline = time.monotonic() + args.start_timeout
    started = time.monotonic()
    while True:
        if server.poll() is not None:
            raise BenchError(
                f"the API {exit_text(server.returncode)} before answering {url}; "
                f"last lines of {server_log}:\n{tail(server_log)}"
            )
        try:
            health = get_json(url, token)
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            if time.monotonic() > deadline:
                stop_server(server)
                raise BenchError(
                    f"the API did not answer {url} within {args.start_timeout:.0f} s; last "
                    f"lines of {server_log}:\n{tail(server_log)}"
                ) from None
            time.sleep(0.5)
    log(f"API up in {time.monotonic() - started:.1f} s: /health says {json.dumps(health)}")
    return server, health


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# ---------------------------------------------------------------- locust


def read_stats(prefix: Path) -> dict[str, dict]:
    path = Path(f"{prefix}_stats.csv")
    if not path.exists():
        return {}
    with path.open(newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def number(value: str | None) -> float | None:
    try:
        return float(value)  # "N/A" before the first response
    except (TypeError, ValueError):
        return None


def ms(value: float | None) -> str:
    """A latency for the table: locust rounds below 100 ms to whole ms, so 0 means under 0.5."""
    if value is None:
        return "n/a"
    return "<1" if value < 0.5 else f"{value:.0f}"


def row_summary(row: dict | None) -> dict:
    row = row or {}
    return {
        "requests": int(number(row.get("Request Count")) or 0),
        "errors": int(number(row.get("Failure Count")) or 0),
        "requests_per_second": number(row.get("Requests/s")),
        "p50_ms": number(row.get("50%")),
        "p95_ms": number(row.get("95%")),
        "p99_ms": number(row.get("99%")),
        "mean_ms": number(row.get("Average Response Time")),
        "max_ms": number(row.get("Max Response Time")),
    }


def failure_messages(prefix: Path, limit: int = 5) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [
            f"{row['Method']} {row['Name']}: {row['Error']} (x{row['Occurrences']})"
            for row in list(csv.DictReader(handle))[:limit]
        ]


def run_locust(args, name: str, endpoints: list[str], users: int, seconds: int, ctx: dict) -> dict:
    """One headless locust run; returns its per-endpoint stats with the server's CPU and RSS."""
    work, server, sampler = ctx["work"], ctx["server"], ctx["sampler"]
    prefix = work / name
    for stale in work.glob(f"{name}_*.csv"):
        stale.unlink()
    command = [
        str(args.bench_venv / "bin" / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        ctx["url"],
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--reset-stats",  # the ramp-up is not measured
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        *[ENDPOINTS[endpoint][0] for endpoint in endpoints],
    ]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["BENCH_SERVE_PLAN"] = str(ctx["plan_path"])
    env["BENCH_SERVE_TOKEN"] = ctx["token"]
    sampler.phase = name
    rss_before = sampler.sample()
    _, cpu_before = tree_usage(server.pid)
    busy_before = machine_busy_seconds()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with (work / f"{name}_locust.log").open("w") as out:
        locust = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        next_progress = started + args.progress_seconds
        while locust.poll() is None:
            time.sleep(1)
            now = time.monotonic()
            if server.poll() is not None:
                locust.kill()
                locust.wait()
                raise BenchError(
                    f"the API {exit_text(server.returncode)} during {name}; last lines of "
                    f"{work / 'server.log'}:\n{tail(work / 'server.log')}"
                )
            if now > started + seconds + 90:
                locust.kill()
                locust.wait()
                raise BenchError(f"locust did not stop after {seconds} s + 90 s in {name}")
            if now >= next_progress:
                next_progress += args.progress_seconds
                so_far = row_summary(read_stats(prefix).get("Aggregated"))
                rss = sampler.samples[-1][2] if sampler.samples else rss_before
                log(
                    f"  {name}: {now - started:5.0f} s, {so_far['requests']:,} requests, "
                    f"{so_far['errors']} errors, p95 {so_far['p95_ms']} ms, "
                    f"server RSS {rss:,.0f} MB"
                )
    wall = time.monotonic() - started
    _, cpu_after = tree_usage(server.pid)
    busy = machine_busy_seconds() - busy_before
    rss_after = sampler.sample()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    stats = read_stats(prefix)
    if not stats:
        raise BenchError(
            f"locust wrote no statistics for {name} (exit {locust.returncode}); last lines of "
            f"{work / f'{name}_locust.log'}:\n{tail(work / f'{name}_locust.log')}"
        )
    rss_values = [rss for _, rss in sampler.of(name)] or [rss_after]
    result = {
        "phase": name,
        "users": users,
        "seconds": seconds,
        "endpoints": {
            endpoint: row_summary(stats.get(ENDPOINTS[endpoint][1])) for endpoint in endpoints
        },
        "server_cpu_percent_of_one_core": round(100 * (cpu_after - cpu_before) / wall, 1),
        "locust_cpu_percent_of_one_core": round(100 * locust_cpu / wall, 1),
        # the rest of the machine (other sessions, builds): how shared the 2 cores were
        "other_cpu_percent_of_one_core": round(
            100 * max(busy - (cpu_after - cpu_before) - locust_cpu, 0.0) / wall, 1
        ),
        "server_rss_mb": {
            "start": round(rss_before, 1),
            "end": round(rss_after, 1),
            "max": round(max(rss_values), 1),
        },
        "failures": failure_messages(prefix),
    }
    return result


def describe(result: dict) -> str:
    parts = []
    for endpoint, stats in result["endpoints"].items():
        parts.append(
            f"{endpoint.upper()} {stats['requests']:,} req "
            f"({stats['requests_per_second'] or 0:.1f}/s), {stats['errors']} errors, "
            f"p50/p95/p99 {ms(stats['p50_ms'])}/{ms(stats['p95_ms'])}/{ms(stats['p99_ms'])} ms"
        )
    rss = result["server_rss_mb"]
    return (
        "; ".join(parts)
        + f"; CPU (% of a core) server {result['server_cpu_percent_of_one_core']}, "
        f"locust {result['locust_cpu_percent_of_one_core']}, "
        f"other processes {result['other_cpu_percent_of_one_core']}; "
        f"server RSS {rss['start']:,.0f} -> {rss['end']:,.0f} MB"
    )


# ---------------------------------------------------------------- memory trend of the soak


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def rss_trend(samples: list[tuple[float, float]], minutes: float) -> dict:
    """RSS after the first minute (warm caches), at the half, at the end; slope over the second
    half (least squares, MB per minute); growth = end - half, the figure the target checks."""
    if len(samples) < 4:
        return {}
    t0 = samples[0][0]
    points = [((t - t0) / 60, rss) for t, rss in samples]
    window = max(0.5, minutes / 10)

    def around(minute: float) -> float:
        near = [rss for m, rss in points if abs(m - minute) <= window / 2]
        return median(near) if near else min(points, key=lambda p: abs(p[0] - minute))[1]

    second_half = [(m, rss) for m, rss in points if m >= minutes / 2]
    mean_m = sum(m for m, _ in second_half) / len(second_half)
    mean_r = sum(r for _, r in second_half) / len(second_half)
    spread = sum((m - mean_m) ** 2 for m, _ in second_half)
    slope = sum((m - mean_m) * (r - mean_r) for m, r in second_half) / spread if spread else 0.0
    after_first = around(min(1.0, minutes / 2))
    half, end = around(minutes / 2), around(minutes)
    return {
        "rss_after_first_minute_mb": round(after_first, 1),
        "rss_at_half_mb": round(half, 1),
        "rss_at_end_mb": round(end, 1),
        "rss_max_mb": round(max(r for _, r in points), 1),
        "growth_first_minute_to_end_mb": round(end - after_first, 1),
        "growth_second_half_mb": round(end - half, 1),
        "slope_second_half_mb_per_minute": round(slope, 2),
        "per_minute_mb": [round(around(minute), 1) for minute in range(0, int(minutes) + 1)],
    }


# ---------------------------------------------------------------- the run


def table(results: list[dict]) -> list[str]:
    lines = [
        "| endpoint | clients | requests | errors | requests/s | p50 ms | p95 ms | p99 ms | max ms "
        "| CPU, % of a core: server / locust / others | server RSS MB (start → end) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for endpoint, stats in result["endpoints"].items():
            label = ENDPOINTS[endpoint][2]
            if result["phase"].startswith("soak"):
                mixed = ", mixed" if len(result["endpoints"]) > 1 else ""
                label += f" (soak, {result['seconds'] / 60:g} min{mixed})"
            rss = result["server_rss_mb"]
            lines.append(
                f"| {label} | {result['users']} | {stats['requests']:,} | {stats['errors']} "
                f"| {stats['requests_per_second'] or 0:.1f} | {ms(stats['p50_ms'])} "
                f"| {ms(stats['p95_ms'])} | {ms(stats['p99_ms'])} | {ms(stats['max_ms'])} "
                f"| {result['server_cpu_percent_of_one_core']:.0f} / "
                f"{result['locust_cpu_percent_of_one_core']:.0f} / "
                f"{result['other_cpu_percent_of_one_core']:.0f} "
                f"| {rss['start']:,.0f} → {rss['end']:,.0f} |"
            )
    return lines


def prepare_work(work: Path) -> None:
    if work.exists():
        if not (work / WORK_MARKER).exists() and any(work.iterdir()):
            raise BenchError(
                f"--work-dir {work} exists and was not made by this script: pick another folder"
            )
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / WORK_MARKER).write_text("scratch folder of scripts/bench_serve.py: emptied every run\n")


def count_lines(path: Path) -> int | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duckdb", type=Path, default=DEFAULT_WAREHOUSE, help="the built warehouse"
    )
    parser.add_argument(
        "--users",
        type=int,
        nargs="*",
        default=[1, 10, 50],
        help="client counts of the short runs (none: only the soak)",
    )
    parser.add_argument(
        "--endpoints", nargs="+", choices=sorted(ENDPOINTS), default=["get", "post"]
    )
    parser.add_argument("--seconds", type=int, default=60, help="length of each short run")
    parser.add_argument(
        "--warmup-seconds",
        type=int,
        default=10,
        help="mixed warm-up before the first run, not reported (0: none)",
    )
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=0,
        help="then run --soak-users clients for this many minutes (0: no soak)",
    )
    parser.add_argument("--soak-users", type=int, default=10)
    parser.add_argument(
        "--soak-endpoints",
        nargs="+",
        choices=sorted(ENDPOINTS),
        default=["get", "post"],
        help="mixed in equal numbers of clients",
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--server-command",
        default="{bin}/lead-scoring serve --duckdb {duckdb} --host {host} --port {port}",
        help="how to start the API ({bin} = this venv's bin folder)",
    )
    parser.add_argument(
        "--start-timeout", type=float, default=300, help="seconds to wait for GET /health"
    )
    parser.add_argument(
        "--bench-venv",
        type=Path,
        default=DEFAULT_BENCH_VENV,
        help="the venv with locust (make bench-serve creates it)",
    )
    parser.add_argument(
        "--rss-interval", type=float, default=2.0, help="seconds between RSS samples"
    )
    parser.add_argument("--progress-seconds", type=float, default=15.0)
    parser.add_argument("--templates-per-type", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--p95-target-ms", type=float, default=100.0, help="target: POST p95 at 10 clients"
    )
    parser.add_argument(
        "--max-rss-growth-mb",
        type=float,
        default=32.0,
        help="target: soak RSS growth over its second half",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on a missed target too")
    parser.add_argument("--work-dir", type=Path, default=PROJECT_DIR / "bench_data" / "serve_bench")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench_data" / "serve_bench.json")
    args = parser.parse_args()
    try:
        return run(args)
    except BenchError as exc:
        print(f"bench_serve: {exc}", file=sys.stderr)
        return 1


def run(args) -> int:
    host = "127.0.0.1" if args.host == "localhost" else args.host
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError
    except ValueError:
        raise BenchError(
            f"--host {args.host}: the benchmark only targets a loopback address"
        ) from None
    args.host = host
    args.duckdb = args.duckdb.resolve()
    locust_bin = args.bench_venv / "bin" / "locust"
    if not locust_bin.exists():
        raise BenchError(
            f"no locust at {locust_bin}: run `make bench-serve` (it creates {args.bench_venv})"
        )
    if args.soak_minutes < 0 or args.seconds <= 0:
        raise BenchError("--seconds must be > 0 and --soak-minutes >= 0")

    log(f"reading open leads and event templates from {args.duckdb}")
    plan = read_plan(args.duckdb, args.templates_per_type, args.seed)
    work = args.work_dir.resolve()
    prepare_work(work)
    token = secrets.token_urlsafe(24)  # to the server and locust by environment, never written
    plan.update(started_epoch=time.time(), run_id=secrets.token_hex(4))
    plan_path = work / "plan.json"
    plan_path.write_text(json.dumps(plan))
    log(
        f"{len(plan['lead_ids']):,} open leads, {len(plan['templates'])} event templates "
        f"({', '.join(EVENT_TYPES)}), events dated from {plan['base_occurred_at']}"
    )

    port = args.port or free_port(args.host)
    server, health = start_server(args, port, work, token)
    sampler = Sampler(server.pid, args.rss_interval)
    sampler.start()
    ctx = {
        "token": token,
        "work": work,
        "server": server,
        "sampler": sampler,
        "plan_path": plan_path,
        "url": f"http://{args.host}:{port}",
    }
    results: list[dict] = []
    soak: dict | None = None
    warmup: dict | None = None
    rss_ready = sampler.sample()
    try:
        if args.warmup_seconds > 0:
            log(f"warm-up: 10 clients, GET and POST mixed, {args.warmup_seconds} s (not reported)")
            warmup = run_locust(args, "warmup", sorted(ENDPOINTS), 10, args.warmup_seconds, ctx)
        for users in args.users:
            for endpoint in args.endpoints:
                name = f"{endpoint}_u{users}"
                log(f"{name}: {ENDPOINTS[endpoint][2]}, {users} clients, {args.seconds} s")
                result = run_locust(args, name, [endpoint], users, args.seconds, ctx)
                log(f"{name}: {describe(result)}")
                results.append(result)
        if args.soak_minutes > 0:
            seconds = int(args.soak_minutes * 60)
            log(
                f"soak: {args.soak_users} clients ({' + '.join(args.soak_endpoints)}), "
                f"{args.soak_minutes:g} min"
            )
            soak = run_locust(args, "soak", args.soak_endpoints, args.soak_users, seconds, ctx)
            soak["rss_trend"] = rss_trend(sampler.of("soak"), args.soak_minutes)
            log(f"soak: {describe(soak)}")
            log(f"soak: server RSS per minute (MB): {soak['rss_trend'].get('per_minute_mb')}")
            results.append(soak)
    finally:
        sampler.stop()
        stop_server(server)

    received = count_lines(work / "received_events" / "touchpoints.jsonl")
    crm_changes = count_lines(work / "serve" / "crm_changes.jsonl")
    posted_ok = sum(
        stats["requests"] - stats["errors"]
        for result in [*results, *([warmup] if warmup else [])]
        for endpoint, stats in result["endpoints"].items()
        if endpoint == "post"
    )
    errors = sum(stats["errors"] for result in results for stats in result["endpoints"].values())
    checks = []
    post10 = next(
        (
            r["endpoints"]["post"]
            for r in results
            if r["phase"] == "post_u10" and "post" in r["endpoints"]
        ),
        None,
    )
    if post10 is not None:
        checks.append(
            {
                "target": f"POST p95 <= {args.p95_target_ms:g} ms at 10 clients",
                "measured": post10["p95_ms"],
                "met": post10["p95_ms"] is not None and post10["p95_ms"] <= args.p95_target_ms,
            }
        )
    checks.append({"target": "no errors", "measured": errors, "met": errors == 0})
    if soak and soak.get("rss_trend"):
        growth = soak["rss_trend"]["growth_second_half_mb"]
        checks.append(
            {
                "target": f"no memory growth: soak RSS growth over its second half <= "
                f"{args.max_rss_growth_mb:g} MB",
                "measured": growth,
                "met": growth <= args.max_rss_growth_mb,
            }
        )

    lines = table(results)
    report = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "warehouse": str(args.duckdb),
        "open_leads": len(plan["lead_ids"]),
        "health": health,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "method": {
            "closed_loop": True,
            "think_time_seconds": 0,
            "seconds_per_run": args.seconds,
            "warmup_seconds": args.warmup_seconds,
            "endpoints_per_run": "one (the soak mixes)",
            "event_types": list(EVENT_TYPES),
        },
        "server_rss_ready_mb": round(rss_ready, 1),
        "warmup": warmup,
        "results": results,
        "received_events_written": received,
        "crm_changes_written": crm_changes,
        "post_successes": posted_ok,
        "checks": checks,
        "rss_samples": sampler.samples,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")

    print()
    print("\n".join(lines))
    print(
        f"\nserver RSS when ready {rss_ready:,.0f} MB; received events written {received}, "
        f"CRM changes {crm_changes}; successful POSTs counted by locust {posted_ok:,} "
        "(warm-up included, each run's ramp-up second not counted)"
    )
    for check in checks:
        print(f"{'met    ' if check['met'] else 'MISSED '} {check['target']}: {check['measured']}")
    for result in results:
        for message in result["failures"]:
            print(f"failure in {result['phase']}: {message}")
    print(f"\nwritten to {args.out} and {args.out.with_suffix('.md')}")
    if errors:
        return 1
    if args.strict and not all(check["met"] for check in checks):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
