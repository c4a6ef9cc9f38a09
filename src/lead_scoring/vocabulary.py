"""The project's vocabularies, read from the dbt seeds: one home each, for SQL and Python alike.

The dbt models read ``seeds/<name>.csv`` with ``ref()``; Python code and the tests read the same
files through this module, so a new event type, channel, company-size band or webmail domain is
added in one place:

* ``seeds/event_types.csv``: the event types of the raw data contract (plus ``other``, staging's
  name for any other raw type) and what each means: web event, engaged, high intent, form
  submission, marketing touch, fallback channel.
* ``seeds/channels.csv``: the canonical channels and their group (paid, organic or none).
* ``seeds/channel_rules.csv``: how a missing or non-canonical channel is derived from the tags.
* ``seeds/company_size_bands.csv``: the employee bands of the raw data contract, smallest first.
* ``seeds/personal_email_domains.csv``: the webmail domains behind ``is_personal_email``.

The tools of a lead's tech stack name feature columns (``has_<crm>``), so they live in one dbt
macro (``macros/tech_stack_tools.sql``), not in a seed.

Where the seeds are: ``seeds/`` sits at the root of the dbt project, outside the package, and is
not copied into it (a copy would be a second home). :func:`seeds_dir` looks in
``$DBT_PROJECT_DIR/seeds`` first (the Makefile, the dbt runs of the tests and dbt's own Python
models set it), then in the checkout this module is imported from (``src/lead_scoring/`` ->
``../../seeds``: the editable install of ``make setup`` and a ``PYTHONPATH=src`` run), then in
``./seeds`` of the working directory. Outside a checkout of the project the vocabularies are not
available and :class:`VocabularyNotFoundError` says where it looked.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path


class VocabularyNotFoundError(FileNotFoundError):
    """No ``seeds/`` folder of the dbt project where :func:`seeds_dir` looks."""


@dataclass(frozen=True)
class EventType:
    """One row of ``seeds/event_types.csv``."""

    event_type: str
    is_raw_contract: bool
    is_web_event: bool
    is_engaged: bool
    is_high_intent: bool
    is_form_submission: bool
    is_marketing_touch: bool
    fallback_channel: str | None
    description: str


@dataclass(frozen=True)
class ChannelRule:
    """One row of ``seeds/channel_rules.csv``: a pattern over one normalised tag."""

    rule_priority: int
    source_field: str
    pattern: str
    channel: str
    description: str


def _candidate_dirs() -> list[Path]:
    candidates = []
    if project_dir := os.environ.get("DBT_PROJECT_DIR"):
        candidates.append(Path(project_dir) / "seeds")
    candidates.append(Path(__file__).resolve().parents[2] / "seeds")
    candidates.append(Path.cwd() / "seeds")
    return candidates


def seeds_dir() -> Path:
    """The ``seeds/`` folder of the dbt project (see the module docstring for the search order)."""
    candidates = _candidate_dirs()
    for candidate in candidates:
        if (candidate / "event_types.csv").is_file():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise VocabularyNotFoundError(
        f"no seeds/event_types.csv of the lead_scoring dbt project in {searched}: "
        "run from a checkout of the project or set DBT_PROJECT_DIR"
    )


def read_seed(name: str) -> list[dict[str, str]]:
    """The rows of ``seeds/<name>.csv`` as strings, in file order (blank cells are '')."""
    with open(seeds_dir() / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _flag(value: str) -> bool:
    """A boolean cell of a seed: 'true' or 'false' (dbt's seed loader reads the same)."""
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"not a boolean seed cell: {value!r}")
    return lowered == "true"


@cache
def event_types() -> dict[str, EventType]:
    """Every event type of ``seeds/event_types.csv`` by name, in file order ('other' last)."""
    out = {}
    for row in read_seed("event_types"):
        out[row["event_type"]] = EventType(
            event_type=row["event_type"],
            is_raw_contract=_flag(row["is_raw_contract"]),
            is_web_event=_flag(row["is_web_event"]),
            is_engaged=_flag(row["is_engaged"]),
            is_high_intent=_flag(row["is_high_intent"]),
            is_form_submission=_flag(row["is_form_submission"]),
            is_marketing_touch=_flag(row["is_marketing_touch"]),
            fallback_channel=row["fallback_channel"] or None,
            description=row["description"],
        )
    return out


def event_type_names(flag: str | None = None, value: bool = True) -> tuple[str, ...]:
    """Names of the event types, in file order; with ``flag`` (a boolean field of
    :class:`EventType`, e.g. ``"is_web_event"``) only those whose flag equals ``value``."""
    return tuple(
        name
        for name, event_type in event_types().items()
        if flag is None or getattr(event_type, flag) is value
    )


def raw_event_types() -> tuple[str, ...]:
    """The event types of the raw data contract, in file order (without 'other')."""
    return event_type_names("is_raw_contract")


@cache
def channels() -> dict[str, str | None]:
    """The canonical channels of ``seeds/channels.csv`` -> their group ('paid', 'organic', None)."""
    return {row["channel"]: row["channel_group"] or None for row in read_seed("channels")}


@cache
def channel_rules() -> tuple[ChannelRule, ...]:
    """The rules of ``seeds/channel_rules.csv`` in evaluation order (lowest priority first)."""
    rules = [
        ChannelRule(
            rule_priority=int(row["rule_priority"]),
            source_field=row["source_field"],
            pattern=row["pattern"],
            channel=row["channel"],
            description=row["description"],
        )
        for row in read_seed("channel_rules")
    ]
    return tuple(sorted(rules, key=lambda rule: rule.rule_priority))


@cache
def company_size_bands() -> tuple[str, ...]:
    """The employee bands of the raw data contract, smallest first (ordinal = position + 1)."""
    rows = sorted(read_seed("company_size_bands"), key=lambda r: int(r["company_size_ordinal"]))
    return tuple(row["company_size_band"] for row in rows)


@cache
def personal_email_domains() -> frozenset[str]:
    """The webmail domains whose addresses make ``is_personal_email`` true (lower case)."""
    return frozenset(row["email_domain"] for row in read_seed("personal_email_domains"))
