"""dbt's command line for the tests, with one parse shared by the runs that parse alike.

Every end-to-end test runs dbt in a folder of its own (warehouse, target, logs) and with vars of
its own, so dbt's partial parsing never applies: its state check hashes every command-line var
and the whole profile, the warehouse's path included, and each folder's target starts empty.
`dbt parse` of this project takes 9 s with a full parse and 3.6 s from a saved one; the tests
make some seventy dbt runs.

This runner keeps the parses of a pytest run in a cache folder (``LEAD_SCORING_TEST_PARSE_CACHE``,
set by tests/e2e/conftest.py) and hands a run the saved parse of an earlier run that was parsed
alike. dbt then partially parses as it does between two runs of a developer: it compares
every file's checksum and the env vars each file read, finds nothing changed and keeps the saved
manifest. "Parsed alike" is what dbt's own state check holds, less two things that do not change
a parse of this project:

- the command-line vars that nothing read while parsing. Every full parse records the names of
  the vars read until its manifest is written (``var()`` in dbt_project.yml, in configs, in
  property files, in macros run at parse time); a saved parse is used only by a run whose
  command-line values of those names are the same (a name absent on both counts as equal);
- the warehouse file's path (``path`` in the profile): the catalog name dbt derives from it
  (``database``) stays in the check, and no model, macro or property file reads ``target.path``
  (tests/unit/test_test_support.py checks that).

Everything else stays dbt's: the dbt version, the profile and target names, the env vars of
dbt_project.yml, the project file, every file's checksum. A folder's own saved parse
(target/partial_parse.msgpack from an earlier run there, perhaps with other vars) is replaced by
the cache's, or removed when the cache has none, so dbt never reuses a parse the cache did not
vouch for. Without the env var it is plain dbt.

Run as ``python dbt_shared_parse.py <dbt arguments>``; it exits with dbt's exit code.
"""

from __future__ import annotations

import hashlib
import json
import os
import pprint
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

CACHE_ENV = "LEAD_SCORING_TEST_PARSE_CACHE"
PARSE_FILE = "partial_parse.msgpack"
ABSENT = "<absent from the command line>"
# connection_info keys that do not change a parse (the catalog name, database, stays in)
UNPARSED_CONNECTION_KEYS = frozenset({"path"})


class ParseRecord:
    """What this process's parse read: the names of the vars read until its manifest was
    written, and whether it started from a saved parse (then it read only the files it re-parsed,
    and its names are not the whole parse's)."""

    def __init__(self) -> None:
        self.var_names: set[str] = set()
        self.parsing = True
        self.from_saved_parse = False

    def read(self, name: Any) -> None:
        if self.parsing:
            self.var_names.add(str(name))


RECORD = ParseRecord()


def parse_key(cli_vars: dict, var_names) -> str:
    """The fingerprint of the command-line values of var_names (absent names included)."""
    values = {name: cli_vars.get(name, ABSENT) for name in sorted(var_names)}
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=repr).encode()).hexdigest()


def find_saved_parse(cache: Path, cli_vars: dict) -> Path | None:
    """The cache's saved parse for these command-line vars, or None."""
    for entry in sorted(cache.glob("*.json")):
        try:
            saved = json.loads(entry.read_text())
        except (OSError, ValueError):
            continue
        manifest = entry.with_suffix(".msgpack")
        same = saved.get("key") == parse_key(cli_vars, saved.get("var_names", []))
        if same and manifest.exists():
            return manifest
    return None


def _write_whole(target: Path, content: bytes) -> None:
    """Write target as a temporary file renamed: another process sees all of it or none."""
    descriptor, tmp = tempfile.mkstemp(dir=target.parent, prefix=".saving-")
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.replace(tmp, target)


def save_parse(cache: Path, manifest_file: Path, cli_vars: dict, var_names: set[str]) -> None:
    """Add a full parse to the cache: the manifest first, then its entry, so another process
    reads an entry only with its manifest."""
    key = parse_key(cli_vars, var_names)
    name = hashlib.sha256(f"{key}\0{sorted(var_names)}".encode()).hexdigest()[:16]
    cache.mkdir(parents=True, exist_ok=True)
    _write_whole(cache / f"{name}.msgpack", manifest_file.read_bytes())
    entry = {"key": key, "var_names": sorted(var_names)}
    _write_whole(cache / f"{name}.json", json.dumps(entry).encode())


def install(cache: Path) -> None:
    """Patch dbt (this process only) to record the vars read while parsing, to check a saved
    parse as described above, and to take and keep saved parses in cache."""
    from dbt.context.base import Var
    from dbt.context.configured import ConfiguredVar
    from dbt.contracts.files import FileHash
    from dbt.parser.manifest import ManifestLoader
    from dbt.version import __version__

    for cls in (Var, ConfiguredVar):
        call = cls.__call__

        def recording_call(self, var_name, *args, _call=call, **kwargs):
            RECORD.read(var_name)
            return _call(self, var_name, *args, **kwargs)

        cls.__call__ = recording_call
    has_var = Var.has_var

    def recording_has_var(self, var_name):
        RECORD.read(var_name)
        return has_var(self, var_name)

    Var.has_var = recording_has_var

    state_check = ManifestLoader.build_manifest_state_check
    read_saved = ManifestLoader.read_manifest_for_partial_parse
    write_saved = ManifestLoader.write_manifest_for_partial_parse

    def build_manifest_state_check(self):
        check = state_check(self)
        config = self.root_project
        check.vars_hash = FileHash.from_contents(
            "\x00".join(
                [
                    "command-line vars: checked by the test runner's parse cache",
                    getattr(config.args, "profile", "") or "",
                    getattr(config.args, "target", "") or "",
                    __version__,
                ]
            )
        )
        connection = sorted(
            (key, value)
            for key, value in config.credentials.connection_info()
            if key not in UNPARSED_CONNECTION_KEYS
        )
        check.profile_hash = FileHash.from_contents(pprint.pformat(connection))
        return check

    def own_parse_file(self) -> Path:
        return Path(self.root_project.project_target_path) / PARSE_FILE

    def read_manifest_for_partial_parse(self):
        own = own_parse_file(self)
        saved = find_saved_parse(cache, self.root_project.cli_vars)
        if saved is None:
            own.unlink(missing_ok=True)
        else:
            own.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(saved, own)
        manifest = read_saved(self)
        RECORD.from_saved_parse = manifest is not None
        return manifest

    def write_manifest_for_partial_parse(self):
        write_saved(self)
        RECORD.parsing = False
        if not RECORD.from_saved_parse:
            save_parse(cache, own_parse_file(self), self.root_project.cli_vars, RECORD.var_names)

    ManifestLoader.build_manifest_state_check = build_manifest_state_check
    ManifestLoader.read_manifest_for_partial_parse = read_manifest_for_partial_parse
    ManifestLoader.write_manifest_for_partial_parse = write_manifest_for_partial_parse


def main() -> None:
    cache = os.environ.get(CACHE_ENV)
    if cache:
        install(Path(cache))
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    cli()


if __name__ == "__main__":
    main()
