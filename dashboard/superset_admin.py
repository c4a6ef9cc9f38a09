"""Set up Superset and import the dashboard bundle, in one process (run by Superset's venv).

    .venv-dashboard/bin/python dashboard/superset_admin.py setup --bundle BUNDLE.zip

with SUPERSET_HOME, SUPERSET_CONFIG_PATH and LEAD_SCORING_DASHBOARD_PASSWORD set (as
lead_scoring.dashboard.setup_superset does). It does what `superset db upgrade`,
`superset init`, `superset fab create-admin` and an assets import do, in one start of the
app instead of four (each start costs seconds), and:

- creates the admin user, or resets its password to the one given, so the printed login
  always works;
- imports with Superset's assets importer (ImportAssetsCommand), which overwrites the
  database, datasets, charts and dashboard of an earlier import: the code is the truth.
  (`superset import-dashboards` keeps existing charts and datasets unchanged.)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from zipfile import ZipFile


def _step(name: str, start: float) -> None:
    print(f"superset_admin: {name} done ({time.monotonic() - start:.1f} s)", flush=True)


def setup(bundle_path: str) -> int:
    start = time.monotonic()
    from superset.app import create_app

    app = create_app()
    _step("app", start)
    with app.app_context():
        from flask import g
        from flask_migrate import upgrade
        from superset import appbuilder, db, security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.commands.importers.v1.utils import get_contents_from_bundle

        upgrade()
        _step("db upgrade", start)
        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()
        db.session.commit()
        _step("roles", start)

        password = os.environ["LEAD_SCORING_DASHBOARD_PASSWORD"]
        user = security_manager.find_user(username="admin")
        if user is None:
            user = security_manager.add_user(
                "admin", "Admin", "User", "admin@localhost",
                security_manager.find_role("Admin"), password=password,
            )  # fmt: skip
            if not user:
                print("superset_admin: could not create the admin user", file=sys.stderr)
                return 1
        else:
            security_manager.reset_password(user.id, password)
        db.session.commit()
        _step("admin user", start)

        g.user = user
        with ZipFile(bundle_path) as bundle:
            contents = get_contents_from_bundle(bundle)
        ImportAssetsCommand(contents).run()
        _step(f"import of {len(contents)} files", start)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    setup_cmd = sub.add_parser("setup", help="db upgrade, roles, admin user, import")
    setup_cmd.add_argument("--bundle", required=True, help="the ZIP of build_bundle")
    args = parser.parse_args()
    return setup(args.bundle)


if __name__ == "__main__":
    sys.exit(main())
