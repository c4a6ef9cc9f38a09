"""Benchmark the ML core: train + calibrate + evaluate + score on a large synthetic mart.

    .venv/bin/python scripts/bench_ml.py                      # 1.5M rows, 60 features, 2 threads
    .venv/bin/python scripts/bench_ml.py --rows 200000        # quicker

Prints the wall time of each stage and the peak resident memory of the process. Not a test.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from pathlib import Path

from lead_scoring.ml import (
    deserialize_bundle,
    score,
    score_open_leads,
    serialize_bundle,
    train_and_evaluate,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit" / "ml"))
from synthetic import make_synthetic_snapshots  # noqa: E402  (the tests' synthetic feature mart)


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000, help="labeled-or-maturing rows")
    parser.add_argument("--scoring-rows", type=int, default=100_000, help="open leads to score")
    parser.add_argument("--extra-numeric", type=int, default=50)
    parser.add_argument("--extra-categorical", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    t = time.perf_counter()
    df = make_synthetic_snapshots(
        args.rows,
        seed=args.seed,
        n_scoring=args.scoring_rows,
        n_extra_numeric=args.extra_numeric,
        n_extra_categorical=args.extra_categorical,
    )
    n_features = df.shape[1] - 7  # ids, times, flags and the two label columns
    print(
        f"data: {len(df):,} rows x {n_features} features, "
        f"{df.memory_usage(deep=True).sum() / 1e9:.2f} GB, {time.perf_counter() - t:.1f} s"
    )

    timings: dict[str, tuple[float, float]] = {}

    def timed(name, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        timings[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return out

    result = timed("train_and_evaluate", lambda: train_and_evaluate(df, {"nthread": args.threads}))
    row = timed("serialize_bundle", lambda: serialize_bundle(result.bundle))
    bundle = timed("deserialize_bundle", lambda: deserialize_bundle(row))
    scored = timed("score_open_leads", lambda: score_open_leads(bundle, df))
    p = timed("score (probability only, all rows)", lambda: score(bundle, df))

    b = result.boundaries
    m = result.metrics
    test = m[(m["split"] == "test")].pivot(index="model_name", columns="metric", values="value")
    print(f"splits (rows): {b.n_rows}  purged: {b.n_purged}")
    print(
        f"best iteration: {bundle.best_iteration}, calibrator: {bundle.calibrator.method}, "
        f"booster {len(row['booster_blob']) / 1e6:.2f} MB"
    )
    print(test[["auc", "pr_auc", "log_loss", "brier", "ece", "lift_at_10"]].round(4).to_string())
    print(f"scored {len(scored):,} open leads; score() on {len(p):,} rows")
    print(f"{'stage':45s} {'wall s':>8s} {'cpu s':>8s}")
    for name, (wall, cpu) in timings.items():
        print(f"{name:45s} {wall:8.1f} {cpu:8.1f}")
    main_stages = [v for k, v in timings.items() if not k.startswith("score (")]
    wall = sum(w for w, _ in main_stages)
    cpu = sum(c for _, c in main_stages)
    print(f"{'train + calibrate + evaluate + score leads':45s} {wall:8.1f} {cpu:8.1f}")
    print(f"peak RSS {_peak_gb():.2f} GB (whole process, incl. the generated frame)")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
