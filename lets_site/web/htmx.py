"""The one place that reads htmx's HX-* request headers.

The rule: answer with the partial only for an htmx request that is neither boosted nor a
history restore; everything else gets the full page, which includes the same partial.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request

VARY = "HX-Request, HX-Boosted, HX-History-Restore-Request"


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


def wants_partial() -> bool:
    hx = getattr(request, "htmx", None)
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def add_vary(response: Response) -> Response:
    response.vary.update(v.strip() for v in VARY.split(","))
    return response


def render(page_template: str, partial_template: str, /, status: int = 200,
           **context: Any) -> Response:
    """Render the partial alone for an in-page htmx request, else the full page (which
    includes the same partial)."""
    template = partial_template if wants_partial() else page_template
    response = make_response(render_template(template, **context), status)
    return add_vary(response)
