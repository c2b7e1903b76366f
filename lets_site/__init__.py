"""lets-site: the website of a LETS group."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    from lets_site import config, wiring

    root = config.PROJECT_ROOT
    app = Flask(
        __name__,
        instance_path=config._instance_path(),
        instance_relative_config=True,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    config.load_config(app, test_config)
    wiring.init_app(app, migrations=Path(root / "migrations"))
    return app
