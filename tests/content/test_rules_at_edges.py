"""Who edits and who sees the group's content, asked of the models directly: editors
(admins, and members an admin made editor while they are active or leaving), drafts,
members-only items, deleted pages, and a document on the day it expires."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask_login import AnonymousUserMixin

from lets_site.content.models import State, Visibility, is_editor, may_see
from lets_site.members.models import Status
from tests import factories
from tests.content.conftest import make_document, make_editor, make_news, make_page

VISITOR = AnonymousUserMixin()


def test_editors_are_admins_and_given_members_who_have_not_left(app: Any) -> None:
    assert is_editor(factories.make_admin())
    given = make_editor(factories.make_member())
    assert is_editor(given)
    assert not is_editor(factories.make_member())  # a member nobody made editor
    assert not is_editor(None) and not is_editor(VISITOR)
    leaving = make_editor(factories.make_member(status=Status.LEAVING))
    assert is_editor(leaving)
    for status in (Status.INACTIVE, Status.CANDIDATE):
        gone = make_editor(factories.make_member(status=status))
        assert not is_editor(gone)
    # An admin who left is no longer one (is_admin), nor an editor.
    assert not is_editor(factories.make_admin(status=Status.INACTIVE))


def test_public_items_for_everyone_members_items_for_members(app: Any) -> None:
    member = factories.make_member()
    assert may_see(Visibility.PUBLIC, None) and may_see(Visibility.PUBLIC, VISITOR)
    assert may_see(Visibility.MEMBERS, member)
    assert not may_see(Visibility.MEMBERS, None)
    assert not may_see(Visibility.MEMBERS, VISITOR)


def test_a_page_is_seen_when_published_for_its_audience_and_never_once_deleted(
        app: Any) -> None:
    member, editor = factories.make_member(), make_editor(factories.make_member())
    public = make_page("open")
    members = make_page("leden", visibility=Visibility.MEMBERS)
    draft = make_page("klad", state=State.DRAFT)
    deleted = make_page("weg", deleted=True)
    assert public.can_see(VISITOR) and public.can_see(member)
    assert not members.can_see(VISITOR) and members.can_see(member)
    assert not draft.can_see(member) and not draft.can_see(VISITOR)
    assert draft.can_see(editor) and members.can_see(editor)
    for viewer in (VISITOR, member, editor, factories.make_admin()):
        assert not deleted.can_see(viewer)


def test_news_is_seen_when_published_for_its_audience_and_by_editors(app: Any) -> None:
    member, editor = factories.make_member(), make_editor(factories.make_member())
    public = make_news("Open")
    members = make_news("Leden", visibility=Visibility.MEMBERS)
    draft = make_news("Klad", state=State.DRAFT)
    assert public.can_see(VISITOR) and public.can_see(member)
    assert not members.can_see(VISITOR) and members.can_see(member)
    assert not draft.can_see(member) and draft.can_see(editor)
    assert draft.can_see(factories.make_admin())


@pytest.mark.parametrize("days_left, shown", [(1, True), (0, True), (-1, False)])
def test_a_document_is_shown_up_to_and_on_the_day_it_expires(app: Any, days_left: int,
                                                             shown: bool) -> None:
    today = date(2027, 3, 15)
    member = factories.make_member()
    document = make_document(expires_on=today + timedelta(days=days_left))
    assert document.expired(today) is not shown
    assert document.can_see(member, today) is shown
    # Editors still see an expired document (to renew or delete it).
    assert document.can_see(make_editor(factories.make_member()), today)


def test_a_document_without_an_end_date_never_expires(app: Any) -> None:
    document = make_document(expires_on=None, visibility=Visibility.PUBLIC)
    assert not document.expired(date(2999, 1, 1))
    assert document.can_see(VISITOR, date(2999, 1, 1))
    members_only = make_document("Notulen", expires_on=None)
    assert not members_only.can_see(VISITOR, date(2027, 1, 1))
    assert members_only.can_see(factories.make_member(), date(2027, 1, 1))
