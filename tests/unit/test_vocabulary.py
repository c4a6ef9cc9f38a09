"""lead_scoring.vocabulary: the seeds read from Python, and where it finds them."""

from __future__ import annotations

import re

import pytest
from project import PROJECT_DIR

from lead_scoring import vocabulary

READERS = (
    vocabulary.event_types,
    vocabulary.channels,
    vocabulary.channel_rules,
    vocabulary.company_size_bands,
    vocabulary.personal_email_domains,
)


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test reads the seeds anew (a test may point the module at other seeds)."""
    for reader in READERS:
        reader.cache_clear()
    yield
    for reader in READERS:
        reader.cache_clear()


def test_seeds_dir_is_the_projects_seeds_folder(monkeypatch) -> None:
    monkeypatch.delenv("DBT_PROJECT_DIR", raising=False)
    assert vocabulary.seeds_dir() == PROJECT_DIR / "seeds"


def test_seeds_dir_follows_dbt_project_dir_first(monkeypatch, tmp_path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "event_types.csv").write_text(
        (PROJECT_DIR / "seeds" / "event_types.csv").read_text()
    )
    monkeypatch.setenv("DBT_PROJECT_DIR", str(tmp_path))
    assert vocabulary.seeds_dir() == tmp_path / "seeds"


def test_no_seeds_anywhere_names_the_places_searched(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(vocabulary, "_candidate_dirs", lambda: [tmp_path / "seeds"])
    with pytest.raises(
        vocabulary.VocabularyNotFoundError, match=re.escape(str(tmp_path / "seeds"))
    ):
        vocabulary.seeds_dir()


def test_event_types_are_the_raw_contract_plus_other() -> None:
    names = vocabulary.event_type_names()
    assert names[-1] == "other"
    assert vocabulary.raw_event_types() == names[:-1]
    assert vocabulary.raw_event_types() == (
        "page_view", "content_download", "email_open", "email_click", "form_submit",
        "webinar_attended", "demo_request", "ad_click", "chat_started", "event_attended",
    )  # fmt: skip


def test_event_type_flags_select_the_types() -> None:
    assert vocabulary.event_type_names("is_web_event") == (
        "page_view", "content_download", "form_submit", "demo_request", "chat_started",
    )  # fmt: skip
    assert vocabulary.event_type_names("is_engaged", False) == ("email_open",)
    assert vocabulary.event_type_names("is_high_intent") == ("demo_request", "chat_started")
    assert vocabulary.event_type_names("is_marketing_touch") == (
        "email_click", "webinar_attended", "ad_click", "event_attended",
    )  # fmt: skip
    assert vocabulary.event_types()["email_open"].fallback_channel == "email"
    assert vocabulary.event_types()["page_view"].fallback_channel is None


def test_every_channel_named_by_a_vocabulary_is_canonical() -> None:
    canonical = set(vocabulary.channels())
    assert "other" in canonical
    fallbacks = {e.fallback_channel for e in vocabulary.event_types().values()} - {None}
    assert fallbacks <= canonical
    assert {rule.channel for rule in vocabulary.channel_rules()} <= canonical
    assert set(vocabulary.channels().values()) == {"paid", "organic", None}


def test_channel_rules_come_in_priority_order() -> None:
    priorities = [rule.rule_priority for rule in vocabulary.channel_rules()]
    assert priorities == sorted(priorities)
    assert len(set(priorities)) == len(priorities)


def test_company_size_bands_smallest_first() -> None:
    bands = vocabulary.company_size_bands()
    assert bands == ("1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001+")


def test_personal_email_domains_are_lower_case_domains() -> None:
    domains = vocabulary.personal_email_domains()
    assert {"gmail.com", "outlook.com"} <= domains
    assert all(d == d.lower() and "." in d and "@" not in d for d in domains)


def test_a_boolean_cell_must_say_true_or_false() -> None:
    assert vocabulary._flag(" TRUE ") is True
    assert vocabulary._flag("false") is False
    with pytest.raises(ValueError, match="yes"):
        vocabulary._flag("yes")
