"""Demo data: a LETS group in Ieper with members, admins and member organisations.

Each feature adds its own part with the demo step in its description
(``lets_site/<feature>/demo.py``); :func:`build_demo` runs the steps in their order with one
shared :class:`~lets_site.features.DemoContext`. The data is fixed (a seeded random
generator), so every demo looks the same.
"""

from __future__ import annotations

import random

from flask import current_app

from lets_site import features
from lets_site.database import write_transaction
from lets_site.extensions import db

DEMO_PASSWORD = "demo-lets-ieper"  # noqa: S105 - printed for the demo on purpose


def build_demo(group: features.DemoGroup | None = None) -> list[tuple[str, str, str, str]]:
    """Create the schema with the migrations, then the demo data (of LETS Ieper unless
    ``group`` says otherwise). Returns the logins."""
    from flask_migrate import upgrade  # Alembic: imported only by the commands that need it

    upgrade(directory=current_app.extensions["migrate"].directory)
    group = group or features.DemoGroup()
    ctx = features.DemoContext(rng=random.Random(group.seed), group=group)
    with write_transaction():
        for step in features.demo_steps():
            step.run(ctx)
            db.session.flush()
        db.session.commit()
    return ctx.logins
