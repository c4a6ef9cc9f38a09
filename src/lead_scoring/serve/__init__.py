"""Real-time scoring: ``lead-scoring serve``, an HTTP API that scores a lead within a request.

The online score is the batch's own computation run for the lead alone: the dbt feature
models, compiled once (:mod:`.program`), run in an in-memory DuckDB over the lead's raw rows
plus the events received since the build (:mod:`.engine`), then scored by the registered
model with the code of ``ml_scores`` (:func:`lead_scoring.ml.scoring.score_open_leads`). The
server reads its own copy of what it needs from the warehouse (:mod:`.state`), never the
warehouse's write lock; posted events are appended to ``received_events/touchpoints.jsonl``,
which the next ``dbt build`` reads as an extra raw source (:mod:`.events`).
"""
