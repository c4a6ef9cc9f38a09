"""The Jinja2 environment of the report: templates of this package, autoescape on.

Every value a template prints is escaped unless it is :class:`markupsafe.Markup` (a rendered
section, a macro's output), so a table cell or a reason text cannot inject markup.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup


@cache
def environment() -> Environment:
    """The one environment (templates are compiled once per process)."""
    return Environment(
        loader=PackageLoader("lead_scoring.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: object) -> Markup:
    """Template ``name`` rendered with ``context``, as markup safe to place in another one."""
    return Markup(environment().get_template(name).render(**context))


def note(text: str, kind: str = "note") -> Markup:
    """A paragraph of ``kind`` (note, key, warn, na): the ``note`` macro from Python."""
    return Markup(environment().get_template("macros.html.j2").module.note(text, kind))


def not_available(text: str) -> Markup:
    """The grey box of a section that cannot be drawn yet, saying why."""
    return note(f"Not available yet: {text}", "na")
