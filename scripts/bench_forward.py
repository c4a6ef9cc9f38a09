"""Forward-in-time check: score the leads open at D, then see what happened in the next H days.

    .venv/bin/python scripts/bench_forward.py                      # generated (100k) + Olist
    .venv/bin/python scripts/bench_forward.py --worlds olist
    .venv/bin/python scripts/bench_forward.py --raw-dir bench_data/raw_100000 --cap-sweep

Per world: a fresh warehouse under bench_data/forward_<world>/, `dbt build --vars
'{raw_data_path: …, scoring_date: D, prediction_horizon_days: H}'` (wall time and peak RSS of the
dbt process), then `scored_leads` (conversion_probability, and conversion_probability_<k>d
against its own k-day outcomes when those columns exist) and the plain peer model of
scripts/peer_xgboost.py are both scored against the first conversions in (D, D + H] of the raw
conversions file (lead_scoring.forward). Writes bench_data/forward_results.md (and .json).

Worlds:
* generated: `lead-scoring generate --leads N --seed 7` (bench_data/leads_N, reused if present;
  or --raw-dir), D = the last midnight at least H = 30 days before the latest touchpoint (so the
  whole horizon is in the data), H = 30.
* olist: the public Olist marketing funnel (../shared/data/real/olist_marketing_funnel, mapped by
  scripts/olist_to_raw.py), D = 2018-04-30, H = 90; skipped when the folder is absent.

--cap-sweep also builds the generated world with var ml_train_max_rows = each cap and reports the
forward AUC / Brier per cap (whether the cap took effect is read back from the registry's
config in metadata_json: dbt accepts any var, so an unused one is silently ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import MEASURE_CHILD  # noqa: E402
from olist_to_raw import DEFAULT_SOURCE as OLIST_SOURCE  # noqa: E402
from olist_to_raw import olist_to_raw  # noqa: E402
from peer_xgboost import peer_scores  # noqa: E402

from lead_scoring.forward import (  # noqa: E402
    first_conversions,
    forward_metrics,
    forward_outcomes,
    raw_file,
    read_raw_conversions,
)
from lead_scoring.ml.metrics import paired_auc_margin  # noqa: E402
from lead_scoring.ml.registry import active_model  # noqa: E402
from lead_scoring.warehouse import WarehouseError, open_warehouse  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OLIST_SCORING_DATE = "2018-04-30"
OLIST_HORIZON_DAYS = 90
HORIZON_COLUMN = re.compile(r"^conversion_probability_(\d+)d$")


# ---------------------------------------------------------------- building


def dbt_build(raw_dir: Path, work_dir: Path, dbt_vars: dict, reuse: bool = False) -> dict:
    """`dbt build` into a fresh warehouse in work_dir; wall seconds, peak RSS, errors."""
    work_dir.mkdir(parents=True, exist_ok=True)
    warehouse = work_dir / "warehouse.duckdb"
    vars_file = work_dir / "vars.json"
    dbt_vars = {"raw_data_path": str(raw_dir), **dbt_vars}
    built = work_dir / "build.json"
    same_vars = vars_file.exists() and json.loads(vars_file.read_text()) == dbt_vars
    if reuse and same_vars and warehouse.exists() and built.exists():
        print(f"   reusing {warehouse} (built with the same vars)")
        return {"warehouse": warehouse, "reused": True, **json.loads(built.read_text())}
    for stale in (warehouse, Path(f"{warehouse}.wal"), vars_file):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "LEAD_SCORING_DUCKDB": str(warehouse),
    }
    command = [
        sys.executable, "-c", MEASURE_CHILD,
        str(BIN / "dbt"), "build", "--vars", json.dumps(dbt_vars),
    ]  # fmt: skip
    print(f"   dbt build --vars '{json.dumps(dbt_vars)}'  (log: {work_dir / 'build.log'})")
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    (work_dir / "build.log").write_text(completed.stdout + completed.stderr)
    peak = re.findall(r"peak_rss_kb=(\d+)", completed.stderr)
    summary = re.findall(r"Done\. PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+.*", completed.stdout)
    result = {
        "wall_seconds": wall,
        "peak_rss_gb": int(peak[-1]) / 1024 / 1024 if peak else math.nan,
        "returncode": completed.returncode,
        "summary": summary[-1] if summary else "",
        "errors": [
            line.strip()
            for line in completed.stdout.splitlines()
            if re.search(r"\b(ERROR|FAIL)\b", line) and "PASS=" not in line
        ][:20],
    }
    (work_dir / "build.json").write_text(json.dumps(result))
    vars_file.write_text(json.dumps(dbt_vars))
    print(
        f"   build {'ok' if completed.returncode == 0 else 'FAILED'}: {wall:.1f} s wall, "
        f"peak RSS {result['peak_rss_gb']:.2f} GB; {result['summary']}"
    )
    for line in result["errors"]:
        print(f"     {line}")
    return {"warehouse": warehouse, "reused": False, **result}


def read_build(warehouse: Path) -> dict:
    """scored_leads (lead_id, scored_at, probabilities) and the active registry row."""
    con = open_warehouse(warehouse)
    try:
        columns = [r[0] for r in con.execute("describe scored_leads").fetchall()]
        by_horizon = {
            int(m.group(1)): c for c in columns if (m := HORIZON_COLUMN.match(c)) is not None
        }
        scored = con.sql(
            "select lead_id, scored_at, conversion_probability"
            + "".join(f", {c}" for c in by_horizon.values())
            + " from scored_leads order by lead_id"
        ).df()
        registry_columns = [r[0] for r in con.execute("describe ml_models").fetchall()]
        wanted = ("params_json", "metadata_json")
        keep = ["model_name", "model_version", *(c for c in wanted if c in registry_columns)]
        rows = con.sql(f"select {', '.join(keep)}, trained_at from ml_models").df()
        registry = {c: active_model(rows)[c] for c in keep} if len(rows) else {}
        rows_trained = None
        with contextlib.suppress(duckdb.Error):  # the rows the model was fitted on
            rows_trained = con.execute(
                "select n_rows_trained from ml_split_boundaries where split = 'train' "
                "and model_version = ?",
                [registry.get("model_version")],
            ).fetchone()
    finally:
        con.close()
    registry["n_train_rows"] = rows_trained[0] if rows_trained else None
    params, metadata = {}, {}
    with contextlib.suppress(TypeError, ValueError):
        params = json.loads(registry.get("params_json") or "{}")
    with contextlib.suppress(TypeError, ValueError):
        metadata = json.loads(registry.get("metadata_json") or "{}")
    config = metadata.get("config") or {}
    # the training-row cap the model really used (MLConfig.train_max_rows)
    registry["train_max_rows"] = config.get("train_max_rows", params.get("train_max_rows"))
    registry["fallback_reason"] = metadata.get("fallback_reason")
    return {"scored": scored, "by_horizon": by_horizon, "registry": registry}


def model_kind(model_name: str | None) -> str:
    return {"xgboost": "trained", "rule_points": "rules"}.get(model_name or "", str(model_name))


def data_end(raw_dir: Path) -> pd.Timestamp:
    """Latest touchpoint or conversion not in the wall clock's future (a 2099 typo is no end)."""
    touchpoints, conversions = raw_file(raw_dir, "touchpoints"), raw_file(raw_dir, "conversions")
    con = duckdb.connect()
    try:
        latest = con.execute(
            f"""
            select max(t) from (
                select try_cast(occurred_at as timestamp) as t from {touchpoints}
                union all
                select try_cast(converted_at as timestamp) from {conversions}
            ) where t <= cast(current_timestamp as timestamp)
            """
        ).fetchone()[0]
    finally:
        con.close()
    return pd.Timestamp(latest)


def generated_scoring_date(raw_dir: Path, horizon_days: int) -> pd.Timestamp:
    """The last midnight at least horizon_days before the latest touchpoint (the project's
    default "now": the latest occurred_at not in the wall clock's future)."""
    con = duckdb.connect()
    try:
        latest = con.execute(
            f"""
            select max(try_cast(occurred_at as timestamp)) from {raw_file(raw_dir, "touchpoints")}
            where try_cast(occurred_at as timestamp) <= cast(current_timestamp as timestamp)
            """
        ).fetchone()[0]
    finally:
        con.close()
    if latest is None:
        raise SystemExit(f"no valid occurred_at in {raw_dir}")
    return (pd.Timestamp(latest) - pd.Timedelta(days=horizon_days)).floor("D")


# ---------------------------------------------------------------- scoring against the future


def evaluate(
    world: str,
    raw_dir: Path,
    scoring_date: pd.Timestamp,
    horizon_days: int,
    build: dict,
    with_peer: bool = True,
) -> dict:
    """Forward metrics of our scores (main and per-horizon columns) and of the peer."""
    found = read_build(build["warehouse"])
    scored, registry = found["scored"], found["registry"]
    notes: list[str] = []
    if registry.get("fallback_reason"):
        notes.append(f"rule-based fallback: {registry['fallback_reason']}")
    scored_at = pd.to_datetime(scored["scored_at"]).unique()
    if len(scored_at) != 1 or pd.Timestamp(scored_at[0]) != scoring_date:
        notes.append(f"scored_at holds {list(map(str, scored_at[:3]))}, expected {scoring_date}")
    conversions = read_raw_conversions(raw_dir, as_of=scoring_date)
    firsts = first_conversions(conversions)
    first = firsts.reindex(pd.Index(scored["lead_id"].astype("string")))
    already = (first.notna() & (first <= scoring_date)).to_numpy()
    if already.any():
        notes.append(
            f"PROBLEM: {int(already.sum())} scored lead(s) had converted at or before D "
            f"(e.g. {list(scored.loc[already, 'lead_id'][:3])}); left out of the metrics"
        )
        scored = scored[~already].reset_index(drop=True)
    end = data_end(raw_dir)
    rows = []

    def add(scorer: str, h: int, frame: pd.DataFrame, column: str) -> None:
        if scoring_date + pd.Timedelta(days=h) > end:
            notes.append(f"{scorer}: horizon {h} d ends after the data ({end}); not evaluated")
            return
        missing = frame[column].isna()
        if missing.all():
            notes.append(f"{scorer}: {column} is null for every lead; not evaluated")
            return
        if missing.any():
            notes.append(f"{scorer}: {column} is null for {int(missing.sum())} leads, left out")
            frame = frame[~missing]
        y = forward_outcomes(frame, conversions, scoring_date, h)
        rows.append({"scorer": scorer, "horizon_days": h, **forward_metrics(y, frame[column])})

    add("ours", horizon_days, scored, "conversion_probability")
    for h, column in sorted(found["by_horizon"].items()):
        add(f"ours ({column})", h, scored, column)
    peer_info: dict = {}
    if with_peer:
        started = time.perf_counter()
        peer = peer_scores(raw_dir, scoring_date, horizon_days)
        peer_info = {"seconds": time.perf_counter() - started, **peer.attrs.get("peer", {})}
        print(f"   peer: {len(peer):,} leads scored in {peer_info['seconds']:.1f} s")
        common = scored[["lead_id"]].merge(peer, on="lead_id", how="inner")
        only_ours = len(scored) - len(common)
        only_peer = len(peer) - len(common)
        if only_ours or only_peer:
            notes.append(
                f"open-lead sets differ: {only_ours} scored by us only, {only_peer} by the peer "
                "only; the peer row covers the common leads"
            )
            ours_common = scored.merge(common[["lead_id"]], on="lead_id")
            add("ours (leads the peer scored)", horizon_days, ours_common, "conversion_probability")
        add("peer (plain XGBoost)", horizon_days, common, "probability")
        if scoring_date + pd.Timedelta(days=horizon_days) <= end:
            # one row per lead, so the lead-level bootstrap is a plain paired bootstrap
            both = scored.merge(common, on="lead_id")
            y = forward_outcomes(both, conversions, scoring_date, horizon_days)
            margin = paired_auc_margin(
                y, both["conversion_probability"], both["probability"], both["lead_id"], n_boot=200
            )
            peer_info["auc_margin"] = margin
            notes.append(
                f"AUC ours - peer: {margin['margin']:+.3f} [90% CI {margin['ci_low']:+.3f}, "
                f"{margin['ci_high']:+.3f}] (paired bootstrap of leads, 200 draws)"
            )
    # per lead, for a closer look (e.g. O/E by segment): scores, peer score, outcome in H
    per_lead = scored.copy()
    if with_peer:
        per_lead = per_lead.merge(
            peer.rename(columns={"probability": "peer_probability"}), on="lead_id", how="left"
        )
    if scoring_date + pd.Timedelta(days=horizon_days) <= end:
        per_lead["converted_in_horizon"] = forward_outcomes(
            per_lead, conversions, scoring_date, horizon_days
        )
    per_lead.to_parquet(build["warehouse"].parent / "forward_scores.parquet", index=False)
    return {
        "world": world,
        "scoring_date": str(scoring_date),
        "horizon_days": horizon_days,
        "data_end": str(end),
        "model_name": registry.get("model_name"),
        "model": model_kind(registry.get("model_name")),
        "model_version": registry.get("model_version"),
        "train_max_rows": registry.get("train_max_rows"),
        "n_train_rows": registry.get("n_train_rows"),
        "build": {k: v for k, v in build.items() if k != "warehouse"},
        "peer": peer_info,
        "rows": rows,
        "notes": notes,
    }


# ---------------------------------------------------------------- report


def _f(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def results_table(results: list[dict]) -> list[str]:
    lines = [
        "| world | D | H | open leads | conversions in horizon | realized rate | model | scorer "
        "| AUC | PR-AUC | Brier | ECE (equal-mass) | mean probability | O/E | lift top 10% |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for m in r["rows"]:
            lines.append(
                f"| {r['world']} | {r['scoring_date'][:10]} | {m['horizon_days']} "
                f"| {m['n_leads']:,} | {m['n_converted']:,} | {_f(m['realized_rate'], 4)} "
                f"| {r['model']} | {m['scorer']} | {_f(m['auc'])} | {_f(m['pr_auc'])} "
                f"| {_f(m['brier'], 4)} | {_f(m['ece_equal_mass'], 4)} "
                f"| {_f(m['mean_probability'], 4)} | {_f(m['observed_to_expected'], 2)} "
                f"| {_f(m['lift_top_decile'], 2)} |"
            )
    return lines


def timing_table(results: list[dict]) -> list[str]:
    lines = [
        "| world | raw data | dbt build wall | peak RSS | build result | peer model |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        b = r["build"]
        status = "ok" if b.get("returncode") == 0 else f"exit {b.get('returncode')}"
        reused = " (reused)" if b.get("reused") else ""
        peer = f"{r['peer']['seconds']:.1f} s" if r["peer"] else "–"
        lines.append(
            f"| {r['world']} | {r['raw_dir']} | {b['wall_seconds']:.1f} s{reused} "
            f"| {b['peak_rss_gb']:.2f} GB | {status}: {b.get('summary') or '–'} | {peer} |"
        )
    return lines


def cap_table(results: list[dict]) -> list[str]:
    lines = [
        "| ml_train_max_rows asked | cap used (registry) | rows trained | model | build wall "
        "| peak RSS | AUC | PR-AUC | Brier | ECE (equal-mass) | O/E |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = next((x for x in r["rows"] if x["scorer"] == "ours"), None)
        if m is None:
            continue
        b = r["build"]
        lines.append(
            f"| {r['cap'] or 'default'} | {r['train_max_rows'] or '–'} "
            f"| {r['n_train_rows'] or '–'} | {r['model']} | {b['wall_seconds']:.1f} s "
            f"| {b['peak_rss_gb']:.2f} GB | {_f(m['auc'])} | {_f(m['pr_auc'])} "
            f"| {_f(m['brier'], 4)} | {_f(m['ece_equal_mass'], 4)} "
            f"| {_f(m['observed_to_expected'], 2)} |"
        )
    return lines


# ---------------------------------------------------------------- worlds


def generated_raw_dir(args) -> Path:
    if args.raw_dir:
        return Path(args.raw_dir).resolve()
    data_dir = Path(args.out).resolve() / f"leads_{args.leads}"
    if not (data_dir / "touchpoints.parquet").exists():
        print(f"   generating {args.leads:,} leads (seed {args.seed}) into {data_dir}")
        subprocess.run(
            [str(BIN / "lead-scoring"), "generate", "--leads", str(args.leads),
             "--seed", str(args.seed), "--out", str(data_dir), "--quiet"],
            check=True,
        )  # fmt: skip
    return data_dir.resolve()


def run_world(world, raw_dir, scoring_date, horizon_days, work_dir, args, extra_vars=None):
    dbt_vars = {
        "scoring_date": str(scoring_date.date()) if scoring_date == scoring_date.floor("D")
        else str(scoring_date),
        "prediction_horizon_days": horizon_days,
        **(extra_vars or {}),
    }
    build = dbt_build(raw_dir, work_dir, dbt_vars, reuse=args.reuse)
    try:
        with open_warehouse(build["warehouse"]) as con:
            con.execute("select count(*) from scored_leads").fetchone()
    except (duckdb.Error, WarehouseError) as exc:
        raise SystemExit(f"{world}: no scored_leads after the build ({exc}); see "
                         f"{work_dir / 'build.log'}") from exc  # fmt: skip
    started = time.perf_counter()
    result = evaluate(
        world, raw_dir, scoring_date, horizon_days, build, with_peer=not extra_vars
    )
    result["raw_dir"] = os.path.relpath(raw_dir, PROJECT_DIR)
    print(f"   forward check: {time.perf_counter() - started:.1f} s")
    for line in results_table([result])[2:]:
        print("   " + line)
    for note in result["notes"]:
        print(f"   note: {note}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worlds", nargs="+", default=["generated", "olist"],
                        choices=["generated", "olist"])  # fmt: skip
    parser.add_argument("--leads", type=int, default=100_000, help="generated world size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--raw-dir", help="use this raw folder for the generated world")
    parser.add_argument("--horizon-days", type=int, default=30, help="generated world's H")
    parser.add_argument("--cap-sweep", nargs="*", type=int, metavar="ROWS",
                        help="also build the generated world with var ml_train_max_rows = each "
                        "value (default 100000 200000 400000 800000)")  # fmt: skip
    parser.add_argument("--reuse", action="store_true",
                        help="reuse a warehouse already built with the same vars")  # fmt: skip
    parser.add_argument("--out", default=str(PROJECT_DIR / "bench_data"))
    args = parser.parse_args()
    out = Path(args.out).resolve()  # dbt runs in the project folder
    out.mkdir(parents=True, exist_ok=True)
    results, caps, skipped = [], [], []
    if "generated" in args.worlds:
        raw_dir = generated_raw_dir(args)
        d = generated_scoring_date(raw_dir, args.horizon_days)
        print(f"\n== generated ({raw_dir}): D = {d}, H = {args.horizon_days}")
        results.append(
            run_world("generated", raw_dir, d, args.horizon_days, out / "forward_generated", args)
        )
        if args.cap_sweep is not None:
            caps.append({**results[-1], "cap": None})
            for cap in args.cap_sweep or [100_000, 200_000, 400_000, 800_000]:
                print(f"\n== generated, ml_train_max_rows = {cap:,}")
                r = run_world(
                    f"generated cap {cap}", raw_dir, d, args.horizon_days,
                    out / f"forward_generated_cap{cap}", args, {"ml_train_max_rows": cap},
                )  # fmt: skip
                r["cap"] = cap
                if r["train_max_rows"] != cap:
                    r["notes"].append(
                        f"var ml_train_max_rows={cap} did not reach the model (registry "
                        f"config train_max_rows = {r['train_max_rows']}): dbt ignored it"
                    )
                    print(f"   note: {r['notes'][-1]}")
                caps.append(r)
    if "olist" in args.worlds:
        if not OLIST_SOURCE.exists():
            message = f"olist: skipped ({OLIST_SOURCE} not found: the real data is not here)"
            print(f"\n== {message}")
            skipped.append(message)
        else:
            raw_dir = (out / "olist_raw").resolve()
            counts = olist_to_raw(OLIST_SOURCE, raw_dir)
            d = pd.Timestamp(OLIST_SCORING_DATE)
            print(f"\n== olist ({raw_dir}, {counts}): D = {d}, H = {OLIST_HORIZON_DAYS}")
            results.append(
                run_world("olist", raw_dir, d, OLIST_HORIZON_DAYS, out / "forward_olist", args)
            )
    report = ["# Forward-in-time check", "", *results_table(results), ""]
    report += ["Builds:", "", *timing_table(results), ""]
    if caps:
        report += ["Training-row cap (generated world):", "", *cap_table(caps), ""]
    notes = skipped + [f"{r['world']}: {n}" for r in results + caps[1:] for n in r["notes"]]
    if notes:
        report += ["Notes:", "", *[f"- {n}" for n in notes], ""]
    (out / "forward_results.md").write_text("\n".join(report))
    (out / "forward_results.json").write_text(
        json.dumps({"results": results, "cap_sweep": caps[1:], "skipped": skipped},
                   indent=2, default=str)  # fmt: skip
    )
    print("\n" + "\n".join(report))
    print(f"written to {out / 'forward_results.md'}")
    failed = [r["world"] for r in results + caps if r["build"].get("returncode") not in (0, None)]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
