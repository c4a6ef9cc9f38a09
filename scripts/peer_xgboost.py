"""A plain peer model: the "60-line script" an outside evaluator compared the project with.

    .venv/bin/python scripts/peer_xgboost.py RAW_DIR --scoring-date 2025-05-31 --horizon-days 30

Deliberately simple (it is a yardstick, not the product). From the four raw files of a folder,
in DuckDB SQL: the lead's latest row created at or before D; weekly snapshots from its creation
(every 7 days from the first midnight after it, as the project's grid) while it is open (no
conversion yet) and before D; features at snapshot T from events at or before T only: counts of
each event_type (lower-cased; unknown types -> 'other') in the last 7 / 30 / 90 days and in
total, lead age in days, and the raw company_size, industry, country and lead_source (trimmed,
lower-cased) as categoricals. Label: first conversion within H days of T, for snapshots with
T + H <= D. Nothing dated after D is read. Time-ordered split: the latest 20 % of labeled
snapshot times early-stop XGBoost (hist, depth 6, eta 0.1, 30 rounds, 2 threads) and fit an
isotonic calibration; the rest trains. Scores the leads open at D with features as of D.
No purge, no negative sampling, no dedupe beyond identical event rows. Counts are bucketed by
day (snapshots are midnights), which is exact when D is a midnight too; for a D within a day,
the 7/30/90-day windows at D may also hold events of the part of day D - w before D - w.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import pandas as pd
import xgboost as xgb
from sklearn.isotonic import IsotonicRegression

EVENT_TYPES = (
    "page_view", "content_download", "email_open", "email_click", "form_submit",
    "webinar_attended", "demo_request", "ad_click", "chat_started", "event_attended", "other",
)  # fmt: skip
WINDOWS = (7, 30, 90)
CATEGORICALS = ("company_size", "industry", "country", "lead_source")
NOT_FEATURES = ("lead_id", "snapshot_at", "is_scoring", "label")


def raw_file(raw_dir: Path, name: str) -> str:
    """``<name>.parquet`` of the folder, else ``<name>.csv`` (read as text, cast in SQL)."""
    parquet, csv = raw_dir / f"{name}.parquet", raw_dir / f"{name}.csv"
    if parquet.exists():
        return f"read_parquet('{parquet}')"
    if csv.exists():
        return f"read_csv('{csv}', header = true, all_varchar = true)"
    raise FileNotFoundError(f"neither {parquet.name} nor {csv.name} in {raw_dir}")


def _features_sql(raw_dir: Path, d: str, h: int) -> str:
    known = ", ".join(f"'{e}'" for e in EVENT_TYPES[:-1])
    cum = ", ".join(
        f"cast(sum(count(*) filter (event_type = '{e}')) over w as integer) as {e}"
        for e in EVENT_TYPES
    )
    counts = [f"coalesce(c0.{e}, 0) as {e}_total" for e in EVENT_TYPES] + [
        f"coalesce(c0.{e}, 0) - coalesce(c{w}.{e}, 0) as {e}_{w}d"
        for w in WINDOWS
        for e in EVENT_TYPES
    ]
    week = "to_days(cast(7 * k as integer))"
    return f"""
    with lead_rows as (
        select lid as lead_id, created as created_at,
            {", ".join(f"lower(trim({c})) as {c}" for c in CATEGORICALS)}
        from (select *, nullif(trim(cast(lead_id as varchar)), '') as lid,
                     try_cast(created_at as timestamp) as created
              from {raw_file(raw_dir, "leads")})
        where lid is not null and created <= {d}
        qualify row_number() over (partition by lid order by created desc) = 1
    ),
    firsts as (  -- a lead's first conversion, if it happened by D (none before its creation)
        select l.lead_id, min(try_cast(c.converted_at as timestamp)) as converted_at
        from {raw_file(raw_dir, "conversions")} as c
        join lead_rows as l on trim(cast(c.lead_id as varchar)) = l.lead_id
        where try_cast(c.converted_at as timestamp) between l.created_at and {d}
        group by l.lead_id
    ),
    weeks as (  -- every 7 days from the first midnight after creation
        select l.*, f.converted_at, date_trunc('day', l.created_at) + to_days(1) as first_at,
            unnest(range(0, date_diff('day', l.created_at, {d}) // 7 + 1)) as k
        from lead_rows as l left join firsts as f using (lead_id)
    ),
    snaps as (  -- labeled weekly snapshots while open, and the scoring snapshot at D
        select * exclude (k, first_at), first_at + {week} as snapshot_at, false as is_scoring
        from weeks
        where first_at + {week} + to_days({h}) <= {d}
            and coalesce(first_at + {week} < converted_at, true)
        union all
        select l.*, null as converted_at, {d} as snapshot_at, true as is_scoring
        from lead_rows as l
        where l.lead_id not in (select lead_id from firsts)
    ),
    events as (  -- identical redelivered rows collapse; an event counts from the first
                 -- midnight at or after it (from D for D's own day): snapshots are midnights
        select lead_id, event_type,
            least(case when occurred_at = date_trunc('day', occurred_at) then occurred_at
                else date_trunc('day', occurred_at) + to_days(1) end, {d}) as visible_at
        from (
            select distinct
                cast(event_id as varchar) as event_id,
                nullif(trim(cast(lead_id as varchar)), '') as lead_id,
                try_cast(occurred_at as timestamp) as occurred_at,
                case when lower(trim(event_type)) in ({known}) then lower(trim(event_type))
                    else 'other' end as event_type
            from {raw_file(raw_dir, "touchpoints")}
            where try_cast(occurred_at as timestamp) <= {d}
        )
    ),
    cum as (  -- running counts per lead: cum(T) = events at or before T
        select lead_id, visible_at, {cum}
        from events
        where lead_id in (select lead_id from lead_rows)
        group by lead_id, visible_at
        window w as (partition by lead_id order by visible_at rows unbounded preceding)
    ),
    s as (
        select *, {", ".join(f"snapshot_at - to_days({w}) as t{w}" for w in WINDOWS)}
        from snaps
    )
    select
        s.lead_id, s.snapshot_at, s.is_scoring,
        case when not s.is_scoring
            then coalesce(s.converted_at <= s.snapshot_at + to_days({h}), false)::int end as label,
        date_diff('second', s.created_at, s.snapshot_at) / 86400.0 as lead_age_days,
        {", ".join(f"s.{c}" for c in CATEGORICALS)},
        {", ".join(counts)}
    from s
    asof left join cum as c0 on s.lead_id = c0.lead_id and s.snapshot_at >= c0.visible_at
    {" ".join(
        f"asof left join cum as c{w} on s.lead_id = c{w}.lead_id and s.t{w} >= c{w}.visible_at"
        for w in WINDOWS
    )}
    """


def peer_scores(
    raw_dir, scoring_date, horizon_days: int, seed: int = 0, num_boost_round: int = 1000
) -> pd.DataFrame:
    """lead_id, probability for the leads open at ``scoring_date`` (``attrs['peer']``: summary)."""
    d = f"cast('{pd.Timestamp(scoring_date)}' as timestamp)"
    con = duckdb.connect(config={"threads": 2, "memory_limit": "4GB"})
    frame = con.sql(_features_sql(Path(raw_dir), d, int(horizon_days))).df()
    con.close()
    for c in CATEGORICALS:
        frame[c] = frame[c].astype("category")  # one category set for training and scoring
    empty = [c for c in CATEGORICALS if frame[c].isna().all()]  # e.g. Olist has no industry
    features = [c for c in frame.columns if c not in NOT_FEATURES and c not in empty]
    labeled = frame[~frame["is_scoring"]].sort_values(["snapshot_at", "lead_id"])
    if labeled.empty or labeled["label"].sum() == 0:
        raise ValueError("no labeled snapshot with a conversion: nothing to learn from")
    cut = labeled["snapshot_at"].quantile(0.8)  # the latest 20 % of labeled snapshot times
    fit, valid = labeled[labeled["snapshot_at"] <= cut], labeled[labeled["snapshot_at"] > cut]
    dfit = xgb.QuantileDMatrix(fit[features], fit["label"], enable_categorical=True)
    dvalid = xgb.DMatrix(valid[features], valid["label"], enable_categorical=True)
    params = {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "tree_method": "hist",
        "max_depth": 6,
        "eta": 0.1,
        "nthread": 2,
        "seed": seed,
    }
    booster = xgb.train(
        params,
        dfit,
        num_boost_round=num_boost_round,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=30,
        verbose_eval=False,
    )
    rounds = (0, booster.best_iteration + 1)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(booster.predict(dvalid, iteration_range=rounds), valid["label"])
    score = frame[frame["is_scoring"]]
    dscore = xgb.DMatrix(score[features], enable_categorical=True)
    probability = iso.predict(booster.predict(dscore, iteration_range=rounds))
    out = pd.DataFrame({"lead_id": score["lead_id"].to_numpy(), "probability": probability})
    out.attrs["peer"] = {
        "fit_snapshots": len(fit),
        "fit_positives": int(fit["label"].sum()),
        "valid_snapshots": len(valid),
        "valid_positives": int(valid["label"].sum()),
        "valid_from": str(cut),
        "best_iteration": booster.best_iteration,
    }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir")
    parser.add_argument("--scoring-date", required=True)
    parser.add_argument("--horizon-days", type=int, default=30)
    parser.add_argument("--out", help="write lead_id, probability here (.csv or .parquet)")
    args = parser.parse_args()
    started = time.perf_counter()
    scores = peer_scores(args.raw_dir, args.scoring_date, args.horizon_days)
    seconds = time.perf_counter() - started
    print(f"peer: {len(scores):,} open leads scored in {seconds:.1f} s, mean probability "
          f"{scores['probability'].mean():.4f}; {scores.attrs['peer']}")
    if args.out and args.out.endswith(".parquet"):
        scores.to_parquet(args.out, index=False)
    elif args.out:
        scores.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
