"""What happens on the site, announced for whoever listens (notifications, digests, the
federation feed), so that nothing has to call them.

Each signal is sent by the service that makes the change, after its flush and before the
view commits: a receiver sees the new rows in the same transaction. A receiver must not
commit or roll back (the view does, once), and an error it raises fails the action.

Base layer: imports no feature. Senders pass the object as ``sender`` and keyword data:

- ``transfer_booked``: sender the Transfer; ``actor`` (Member or None).
- ``payment_requested``: sender the PaymentRequest; ``actor``.
- ``listing_published``: sender the Listing; ``actor`` (first publication, republication).
- ``listing_expiring``: sender the Listing (its date passed; ``lets-site offers expire``).
- ``member_applied``: sender the new candidate Member.
- ``event_published``: sender the new Event (the first of a series); ``actor``.
- ``event_changed``: sender the Event (edited, postponed, cancelled); ``actor``.
- ``book_listed``: sender the Book; ``actor`` (added, or offered again from the shelf).
- ``book_requested``: sender the BookRequest; ``actor`` (the member who asks).
- ``payment_request_answered``: sender the PaymentRequest (confirmed and paid, or
  declined); ``actor`` (who answered).
- ``book_accepted``: sender the BookRequest the owner said yes to; ``actor``.
- ``member_email_changed``: sender the Member whose address changed; ``old`` (the address
  before), ``actor``.
- ``mail_undeliverable``: sender the app; ``recipient`` (the address), ``reason`` (the
  server's answer), ``connection`` (the sender's Core connection: a receiver writes in the
  same transaction that marks the mail failed). Sent by the outbox's sender, outside any
  request, when a server refuses a mail for good (5xx).
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

transfer_booked = signals.signal("transfer-booked")
payment_requested = signals.signal("payment-requested")
listing_published = signals.signal("listing-published")
listing_expiring = signals.signal("listing-expiring")
member_applied = signals.signal("member-applied")
event_published = signals.signal("event-published")
event_changed = signals.signal("event-changed")
# Partners: ``partner_added`` (sender the Partner; ``actor``), ``collaboration_recorded``
# (sender the Collaboration; ``actor``).
partner_added = signals.signal("partner-added")
collaboration_recorded = signals.signal("collaboration-recorded")
book_listed = signals.signal("book-listed")
book_requested = signals.signal("book-requested")
payment_request_answered = signals.signal("payment-request-answered")
book_accepted = signals.signal("book-accepted")
member_email_changed = signals.signal("member-email-changed")
mail_undeliverable = signals.signal("mail-undeliverable")
