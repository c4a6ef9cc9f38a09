"""Writing the dataset: chunk by chunk into parquet files, then the ad spend.

:func:`generate_dataset` builds the :class:`~.world.World`, simulates and writes each chunk of
leads (:func:`_chunk_tables`, its own random stream ``(1, k)``), sums the paid clicks for the
ad spend, and moves the finished files into place only when all four are complete.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lead_scoring.generate.ad_spend import ad_spend_table, paid_clicks
from lead_scoring.generate.config import GeneratorConfig
from lead_scoring.generate.events import simulate_events
from lead_scoring.generate.helpers import decimal_ids
from lead_scoring.generate.mess import conversions_table, leads_table, touchpoints_table
from lead_scoring.generate.schema import FILES, TOUCHPOINTS_SCHEMA
from lead_scoring.generate.world import World, simulate_leads


def _chunk_tables(
    w: World, k: int, lo: int, hi: int, counters: dict
) -> tuple[pa.Table, pa.Table, pa.Table, np.ndarray]:
    """Leads ``lo`` to ``hi - 1`` (chunk ``k``): the leads, touchpoints and conversions tables
    and the paid clicks per day x campaign. Advances the event and session ``counters``."""
    rng = np.random.default_rng(np.random.SeedSequence(w.config.seed, spawn_key=(1, k)))
    L = simulate_leads(w, rng, lo, hi)
    ev, conv, n_sessions = simulate_events(w, rng, L)
    lead_ids = decimal_ids("L", np.arange(lo, hi) + 1, w.id_width)
    leads = leads_table(w, rng, L, lead_ids)
    touch = touchpoints_table(w, rng, L, ev, lead_ids, counters)
    counters["sessions"] += n_sessions
    conversions = conversions_table(w, rng, L, conv, lead_ids, counters["unknown_ids"], k == 0)
    return leads, touch, conversions, paid_clicks(w, ev)


def generate_dataset(
    config: GeneratorConfig, out_dir: Path, progress: bool = True
) -> dict[str, int]:
    """Write leads/touchpoints/conversions/ad_spend .parquet into out_dir; return row counts per
    file. The same config gives the same rows in the same order (see the package docstring)."""
    if not isinstance(config, GeneratorConfig):
        raise ValueError(f"config must be a GeneratorConfig, got {type(config).__name__}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output folder {out_dir} exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    w = World(config)
    tmp = {name: out_dir / f".{name}.parquet.tmp" for name in FILES}
    counts = dict.fromkeys(FILES, 0)
    writers = _open_chunk_writers(tmp)
    try:
        clicks = _write_chunks(w, writers, counts, progress, started)
        for writer in writers.values():
            writer.close()
        ad_spend = ad_spend_table(w, clicks)
        pq.write_table(ad_spend, tmp["ad_spend"], compression="zstd")
        counts["ad_spend"] = ad_spend.num_rows
        for name in FILES:
            os.replace(tmp[name], out_dir / f"{name}.parquet")
    except BaseException:
        for writer in writers.values():
            writer.close()
        for path in tmp.values():
            path.unlink(missing_ok=True)
        raise
    _say(progress, f"done in {time.perf_counter() - started:.1f} s -> {out_dir}")
    return counts


def _open_chunk_writers(tmp: dict[str, Path]) -> dict[str, pq.ParquetWriter]:
    """Parquet writers of the three files written chunk by chunk (zstd)."""
    writers = {
        name: pq.ParquetWriter(tmp[name], FILES[name], compression="zstd")
        for name in ("leads", "conversions")
    }
    # occurred_at is sorted within a chunk: delta encoding stores it in ~3.5 instead of 8 bytes
    writers["touchpoints"] = pq.ParquetWriter(
        tmp["touchpoints"],
        TOUCHPOINTS_SCHEMA,
        compression="zstd",
        use_dictionary=[c for c in TOUCHPOINTS_SCHEMA.names if c != "occurred_at"],
        column_encoding={"occurred_at": "DELTA_BINARY_PACKED"},
    )
    return writers


def _write_chunks(
    w: World,
    writers: dict[str, pq.ParquetWriter],
    counts: dict[str, int],
    progress: bool,
    started: float,
) -> np.ndarray:
    """Simulate and write every chunk, counting rows into ``counts``; return the paid clicks
    per day x campaign of all chunks."""
    config = w.config
    counters = dict(
        events=0, sessions=0, n_unknown=w.unknown_pool,
        unknown_ids=decimal_ids(
            "L", config.n_leads + 1 + np.arange(w.unknown_pool), w.id_width
        ),
    )  # fmt: skip
    clicks = np.zeros(w.n_days * len(w.campaign_names), dtype=np.int64)
    for k in range(config.n_chunks):
        lo = k * config.chunk_size
        hi = min(config.n_leads, lo + config.chunk_size)
        leads, touch, conversions, c = _chunk_tables(w, k, lo, hi, counters)
        clicks += c
        for name, table in (("leads", leads), ("touchpoints", touch),
                            ("conversions", conversions)):  # fmt: skip
            writers[name].write_table(table, row_group_size=1_000_000)
            counts[name] += table.num_rows
        _say(
            progress,
            f"chunk {k + 1}/{config.n_chunks}: leads {hi:,}/{config.n_leads:,}, "
            f"touchpoints {counts['touchpoints']:,}, {time.perf_counter() - started:.1f} s",
        )
    return clicks


def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"generate: {message}", file=sys.stderr, flush=True)
