"""lets-site: the website of a LETS group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from lets_site.features import Feature


def create_app(test_config: Mapping[str, Any] | None = None,
               features: Sequence[Feature] = ()) -> Flask:
    """The app. ``features`` are added after the site's own list (lets_site/wiring.py):
    tests use it to plug in a feature of their own."""
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
    wiring.init_app(app, migrations=Path(root / "migrations"), extra_features=features)
    return app
