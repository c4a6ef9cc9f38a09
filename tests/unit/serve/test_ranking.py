"""A rescored lead's priority and band among the batch's leads: the SQL ranking's result."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from lead_scoring.serve.ranking import ArmRanking

# int_lead_scores_ranked's ranking (macro lead_priority, band shares of the model arm),
# written out for the test: what the online ranking must reproduce for every lead
RANKED_SQL = """
with ranked as (
    select *,
        case when experiment_arm = 'rules' then cast(rule_points as double)
             else conversion_probability end as ranking_value
    from scores
), ordered as (
    select *,
        cast(ceil(100.0 * row_number() over (partition by experiment_arm
            order by ranking_value asc, lead_id desc) / count(*) over (partition by experiment_arm))
            as integer) as lead_priority,
        row_number() over (partition by experiment_arm order by ranking_value desc, lead_id asc)
            as position_from_top,
        count(*) over (partition by experiment_arm) as arm_leads
    from ranked
), shares as (
    select
        cast(count(*) filter (where model_score_band = 'A') as double) / count(*) as a,
        cast(count(*) filter (where model_score_band <= 'B') as double) / count(*) as ab,
        cast(count(*) filter (where model_score_band <= 'C') as double) / count(*) as ac
    from ordered where experiment_arm = 'model'
)
select lead_id, experiment_arm, lead_priority,
    case
        when experiment_arm = 'model' then model_score_band
        when position_from_top <= round(arm_leads * shares.a) then 'A'
        when position_from_top <= round(arm_leads * shares.ab) then 'B'
        when position_from_top <= round(arm_leads * shares.ac) then 'C'
        else 'D'
    end as score_band
from ordered cross join shares
"""


def _scores(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(1, 8, n), 3)  # rounded: ties happen
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in rng.permutation(n)],
            "experiment_arm": rng.choice(["model", "rules"], n),
            "conversion_probability": p,
            "rule_points": rng.integers(-10, 40, n),
            "model_score_band": np.select([p >= 0.3, p >= 0.2, p >= 0.1], ["A", "B", "C"], "D"),
        }
    )


def _sql_ranking(scores: pd.DataFrame) -> pd.DataFrame:
    con = duckdb.connect()
    con.register("scores", scores)
    return con.sql(RANKED_SQL).df().set_index("lead_id")


@pytest.mark.parametrize("seed", [1, 2])
def test_every_lead_gets_the_sql_priority_and_band(seed):
    scores = _scores(400, seed)
    expected = _sql_ranking(scores)
    ranking = ArmRanking(scores)
    for row in scores.itertuples():
        arm, priority, band = ranking.rank(
            row.lead_id, row.conversion_probability, row.rule_points, row.model_score_band
        )
        assert (arm, priority, band) == tuple(expected.loc[row.lead_id]), row.lead_id


def test_a_changed_ranker_ranks_as_the_sql_would_after_the_change():
    scores = _scores(300, 3)
    ranking = ArmRanking(scores)
    for i in (0, 17, 150):
        lead = scores.iloc[i]
        changed = scores.copy()
        changed.loc[i, "conversion_probability"] = 0.95
        changed.loc[i, "rule_points"] = 99
        changed.loc[i, "model_score_band"] = "A"
        # the other leads keep their values; only the model arm's shares could move
        if lead["experiment_arm"] == "rules":
            expected = _sql_ranking(changed).loc[lead["lead_id"]]
            got = ranking.rank(lead["lead_id"], 0.95, 99, "A")
            assert got[1] == expected["lead_priority"] == 100
            assert got[2] == expected["score_band"] == "A"
        else:
            expected = _sql_ranking(changed).loc[lead["lead_id"]]
            assert ranking.rank(lead["lead_id"], 0.95, 99, "A")[1:] == (100, "A")
            assert expected["lead_priority"] == 100


def test_a_lead_outside_the_batch_has_no_arm():
    ranking = ArmRanking(_scores(20, 4))
    assert ranking.rank("nobody", 0.5, 10, "B") == (None, None, "B")
