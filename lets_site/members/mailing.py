"""Mail to a member, written in their own language."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from lets_site.mail import Mail, send_after_commit
from lets_site.members.models import Member


def build_mail(recipient: Member, subject: Any, template: str, **context: Any) -> Mail:
    """A message to a member, written in their own language."""
    with force_locale(recipient.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return Mail(to=recipient.email or "", subject=str(subject),
                    body=render_template(template, **context))


def mail_to(recipient: Member, subject: Any, template: str, **context: Any) -> None:
    """Queue a message to a member, written in their own language."""
    if not recipient.email:
        return
    send_after_commit(build_mail(recipient, subject, template, **context))
