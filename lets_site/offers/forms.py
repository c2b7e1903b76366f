from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lets_site.offers.models import Category, Kind, ListingVisibility, PriceBasis
from lets_site.offers.services import DESCRIPTION_MAX, MESSAGE_MAX, TITLE_MAX, Filters, ListingData
from lets_site.web.fields import DateTextField, DecimalTextField
from lets_site.web.forms import BaseForm, choices

KIND_LABELS = {Kind.OFFER.value: _l("Offer"), Kind.WANT.value: _l("Want")}
BASIS_LABELS = {
    PriceBasis.HOUR.value: _l("per hour"),
    PriceBasis.ITEM.value: _l("per item"),
    PriceBasis.AGREE.value: _l("to agree"),
}
VISIBILITY_LABELS = {
    ListingVisibility.MEMBERS.value: _l("Members of the group"),
    ListingVisibility.PUBLIC.value: _l("Everyone, also visitors"),
}


def category_choices(categories: list[Category], locale: str, empty: Any) -> list[Any]:
    pairs: list[tuple[str, object]] = [("", empty)]
    for c in categories:
        label = c.name(locale) if c.parent_id is None else f"— {c.name(locale)}"
        pairs.append((str(c.id), label))
    return choices(pairs)


class ListingForm(BaseForm):
    kind = SelectField(_l("Offer or want"), choices=choices(KIND_LABELS.items()),
                       default=Kind.OFFER.value)
    title = StringField(_l("Title"), validators=[DataRequired(_l("Fill in a title.")),
                                                 Length(max=TITLE_MAX)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)],
        description=_l("What, where, when. Write **bold**, *italic*, and a list with - "
                       "at the start of each line."),
    )
    category_id = SelectField(_l("Category"), choices=[], validators=[Optional()])
    # Inside the "Price" group: the group names the thing, the fields their part.
    price = DecimalTextField(_l("Amount"), places=2, validators=[Optional()],
                             description=_l("In the group's unit. Leave empty for 'to agree'."))
    price_basis = SelectField(_l("Counted"), choices=choices(BASIS_LABELS.items()),
                              default=PriceBasis.HOUR.value)
    valid_until = DateTextField(_l("Valid until"), validators=[Optional()],
                            description=_l("Leave empty for one year from today."))
    visibility = SelectField(_l("Who can see it"), choices=choices(VISIBILITY_LABELS.items()),
                             default=ListingVisibility.MEMBERS.value)
    photo = FileField(_l("Photo (optional)"),
                      description=_l("JPEG, PNG, WebP or GIF, at most 10 MB. We make it "
                                     "smaller and remove hidden data such as location."),
                      render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"})
    remove_photo = BooleanField(_l("Remove the photo"))
    # The listing's revision when the form was loaded: an edit saved meanwhile by someone
    # else is a conflict, not silently overwritten.
    revision = HiddenField()
    publish = SubmitField(_l("Publish"))
    save_draft = SubmitField(_l("Save as draft"))

    def listing_data(self, timezone: str) -> ListingData:
        basis = self.price_basis.data or PriceBasis.AGREE.value
        price = self.price.data
        if price is None and basis != PriceBasis.AGREE.value and not self.price.raw_data:
            basis = PriceBasis.AGREE.value
        valid_until = None
        if self.valid_until.data:
            local = datetime.combine(self.valid_until.data, time(23, 59),
                                     tzinfo=ZoneInfo(timezone))
            valid_until = local.astimezone(UTC)
        upload = self.photo.data
        stream = upload.stream if upload and getattr(upload, "filename", "") else None
        return ListingData(
            kind=self.kind.data or "",
            title=self.title.data or "",
            description=self.description.data or "",
            category_id=int(self.category_id.data) if (self.category_id.data or "").isdigit()
            else None,
            price=price,
            price_basis=basis,
            valid_until=valid_until,
            visibility=self.visibility.data or "",
            photo=stream,
            remove_photo=bool(self.remove_photo.data),
        )

    def loaded_revision(self) -> int | None:
        text = str(self.revision.data or "")
        return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


class RespondForm(BaseForm):
    message = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Write a message.")), Length(max=MESSAGE_MAX)],
        description=_l("The owner gets it by e-mail with your name, e-mail address and phone "
                       "number, and can answer you directly."),
    )


class ActingForm(BaseForm):
    organisation = SelectField(_l("I act for"), choices=[], validators=[Optional()])
    next = HiddenField()


class EmptyForm(BaseForm):
    """Only the CSRF token: for buttons that post."""


TYPE_OPTIONS = [("", _l("offers and wants")), ("offer", _l("offers")), ("want", _l("wants"))]
OWNER_OPTIONS = [("", _l("everyone")), ("members", _l("members")),
                 ("organisations", _l("organisations"))]
SORT_OPTIONS = [("", _l("best match")), ("newest", _l("newest first")),
                ("ending", _l("ending soon"))]


def parse_filters(args: Mapping[str, str], category_slugs: set[str]) -> Filters:
    """The browse filters from a GET query string. Unknown values are ignored, not errors:
    a shared or hand-edited link still shows a page. (Plain parsing, not a WTForms form:
    this is the busiest page and form objects cost more than the whole query.)"""

    def pick(name: str, allowed: set[str]) -> str:
        value = (args.get(name) or "").strip()
        return value if value in allowed else ""

    page_text = (args.get("page") or "1").strip()
    page = (int(page_text) if page_text.isascii() and page_text.isdigit()
            and len(page_text) <= 6 else 1)
    page = min(max(page, 1), 100_000)
    postcode = "".join(ch for ch in (args.get("postcode") or "") if ch.isalnum())[:8]
    return Filters(
        kind=pick("type", {"offer", "want"}),
        category=pick("category", category_slugs),
        owner=pick("owner", {"members", "organisations"}),
        postcode=postcode,
        q=(args.get("q") or "").strip()[:200],
        sort=pick("sort", {"newest", "ending"}),
        page=min(max(page, 1), 10_000),
    )


class CategoryForm(BaseForm):
    name_nl = StringField(_l("Name in Dutch"), validators=[DataRequired(_l("Fill in the Dutch "
                                                                           "name.")),
                                                           Length(max=80)])
    name_fr = StringField(_l("Name in French"), validators=[Optional(), Length(max=80)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=80)])
    parent_id = SelectField(_l("Main category"), choices=[], validators=[Optional()])
    words = TextAreaField(
        _l("Other search words"), validators=[Optional(), Length(max=1000)],
        description=_l("Words in any language that should find this category's offers and "
                       "wants, separated by commas: for example hond, chien, dog."),
    )
    position = IntegerField(_l("Position in the list"),
                            validators=[Optional(), NumberRange(min=0, max=1000)],
                            description=_l("Leave empty to put it at the end."))
