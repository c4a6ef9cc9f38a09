"""Every relative link, image and `#anchor` in README.md and docs/*.md resolves.

Docs links rot when a file moves or a heading is renamed. This test resolves each link the way
GitHub renders the page: a relative path from the linking file (or from the repository root
when it starts with `/`), and an anchor against the headings of the target page, slugged by
GitHub's rule (lowercase; letters, digits, `_`, `-` and spaces kept, other characters dropped;
spaces become `-`; a repeated heading gets `-1`, `-2`, …). Links in code blocks, code spans and
HTML comments are not links and are skipped.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_REFERENCE = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"", re.IGNORECASE)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def project_root() -> Path:
    """The repository root: the nearest folder above this file holding dbt_project.yml."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "dbt_project.yml").is_file():
            return folder
    raise FileNotFoundError("no dbt_project.yml above " + str(Path(__file__)))


def doc_pages(root: Path) -> list[Path]:
    """The pages checked: README.md and every Markdown file in docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def blank_code_blocks(text: str) -> str:
    """The text with fenced code blocks emptied, line breaks kept (so line numbers hold)."""
    lines, fence = [], None
    for line in text.split("\n"):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)[0] * len(opening.group(1))
            lines.append("")
        elif fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def prose(text: str) -> str:
    """What Markdown renders as prose: no code blocks, code spans or HTML comments."""
    keep_lines = lambda match: "\n" * match.group(0).count("\n")  # noqa: E731
    text = HTML_COMMENT.sub(keep_lines, blank_code_blocks(text))
    return CODE_SPAN.sub(keep_lines, text)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link or image: its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").lower()
    kept = (
        ch
        for ch in text
        if ch in " -" or unicodedata.category(ch)[0] in "LMN" or unicodedata.category(ch) == "Pc"
    )
    return "".join(kept).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a page defines: its headings' slugs (repeats numbered) and HTML ids."""
    found: set[str] = set(HTML_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for line in blank_code_blocks(text).split("\n"):
        heading = ATX_HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(1))
            found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return found


def link_targets(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link, image, reference definition and HTML href / src."""
    body = prose(text)
    targets = []
    for pattern in (INLINE_LINK, REFERENCE_DEFINITION, HTML_REFERENCE):
        for match in pattern.finditer(body):
            targets.append((body.count("\n", 0, match.start()) + 1, match.group(1)))
    return sorted(targets)


def link_problem(page: Path, target: str, root: Path) -> str | None:
    """Why a relative link from `page` does not resolve, or None when it does (or is external)."""
    if URL_SCHEME.match(target) or target.startswith("//"):
        return None
    path_part, _, anchor = target.partition("#")
    path_part = unquote(path_part)
    if not path_part:
        resolved = page
    elif path_part.startswith("/"):
        resolved = root / path_part.lstrip("/")
    else:
        resolved = page.parent / path_part
    if not resolved.exists():
        return f"no file {os.path.relpath(resolved, root)}"
    if anchor and resolved.suffix == ".md" and unquote(anchor) not in anchors(resolved.read_text()):
        return f"no anchor #{anchor} in {resolved.name}"
    return None


def broken_links(pages: list[Path], root: Path) -> list[str]:
    """`page:line: target: why` for every link of the pages that does not resolve."""
    problems = []
    for page in pages:
        for line, target in link_targets(page.read_text()):
            why = link_problem(page, target, root)
            if why:
                problems.append(f"{page.relative_to(root)}:{line}: {target}: {why}")
    return problems


def test_every_link_and_anchor_in_the_readme_and_docs_resolves():
    root = project_root()
    pages = doc_pages(root)
    assert len(pages) > 1, "docs/ holds no Markdown page"
    assert sum(len(link_targets(page.read_text())) for page in pages) > 20
    assert broken_links(pages, root) == []


def test_every_docs_page_is_linked_from_the_readme():
    root = project_root()
    linked = {
        (root / target.partition("#")[0]).resolve()
        for _, target in link_targets((root / "README.md").read_text())
    }
    assert [p.name for p in doc_pages(root)[1:] if p.resolve() not in linked] == []


def test_broken_files_images_and_anchors_are_reported(tmp_path):
    (tmp_path / "docs" / "images").mkdir(parents=True)
    (tmp_path / "docs" / "images" / "shot.png").write_bytes(b"")
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\n## Running it: daily (A/B)\n\n## Tests\n\n## Tests\n\n"
        "```\n## Not a heading\n```\n\nBack to the [front page](../README.md#start).\n"
    )
    (tmp_path / "README.md").write_text(
        "# Start\n\n"
        "[ok](docs/guide.md#running-it-daily-ab) [ok](docs/guide.md#tests-1) [ok](#start)\n"
        "![ok](docs/images/shot.png) [ok](https://example.com/x.md#nowhere)\n"
        "[gone](docs/missing.md)\n"
        "![gone](images/shot.png)\n"
        "[bad anchor](docs/guide.md#tests-2) [bad anchor](docs/guide.md#not-a-heading)\n"
        "[bad anchor](#no-such-heading)\n"
        "`[in code](docs/missing.md)` <!-- [in a comment](docs/missing.md) -->\n"
        "```md\n[in a block](docs/missing.md)\n```\n"
    )
    problems = broken_links(doc_pages(tmp_path), tmp_path)
    assert problems == [
        "README.md:5: docs/missing.md: no file docs/missing.md",
        "README.md:6: images/shot.png: no file images/shot.png",
        "README.md:7: docs/guide.md#not-a-heading: no anchor #not-a-heading in guide.md",
        "README.md:7: docs/guide.md#tests-2: no anchor #tests-2 in guide.md",
        "README.md:8: #no-such-heading: no anchor #no-such-heading in README.md",
    ]


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        (
            "Monitoring: score history, drift, backtest, model health",
            "monitoring-score-history-drift-backtest-model-health",
        ),
        ("Running an A/B test against the rules", "running-an-ab-test-against-the-rules"),
        ("How good is it (measured)", "how-good-is-it-measured"),
        ("`make run` – what it does", "make-run--what-it-does"),
        ("scored_leads and [its history](x.md)", "scored_leads-and-its-history"),
        ("Über 100k leads × 3", "über-100k-leads--3"),
    ],
)
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug
