"""Mail to a member, written in their own language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from lets_site import features
from lets_site.mail import Mail, send_after_commit
from lets_site.members.models import Member


def build_mail(recipient: Member, subject: Any, template: str, /, *,
               reply_to: str | None = None, html_template: str | None = None,
               headers: Mapping[str, str] | None = None, **context: Any) -> Mail:
    """A message to a member, written in their own language (subject and body, and the
    HTML alternative when ``html_template`` is given)."""
    with force_locale(recipient.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return Mail(to=recipient.email or "", subject=str(subject),
                    body=render_template(template, **context), reply_to=reply_to,
                    html=render_template(html_template, **context) if html_template else None,
                    headers=headers)


def mail_to(recipient: Member, subject: Any, template: str, /, *,
            reply_to: str | None = None, html_template: str | None = None,
            headers: Mapping[str, str] | None = None, kind: str | None = None,
            optional: bool | None = None, **context: Any) -> bool:
    """Queue a message to a member, written in their own language; nothing for a member
    without an e-mail address, nor when ``kind`` (a notification kind a feature declares)
    is switched off for them. Optional mail (any with a ``kind``, or ``optional=True``, as
    digests) is not sent to an address a mail server refused for good: mail the member
    needs (a password reset, an invitation) still is. True when a message was queued."""
    if not recipient.email:
        return False
    if kind is not None and not features.notification_on(recipient, kind):
        return False
    if (kind is not None if optional is None else optional) and \
            features.address_flagged(recipient):
        return False
    send_after_commit(build_mail(recipient, subject, template, reply_to=reply_to,
                                 html_template=html_template, headers=headers, **context))
    return True
