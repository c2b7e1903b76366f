from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lets_site.partners import labels
from lets_site.partners import services as s
from lets_site.web.fields import DateTextField, DecimalTextField
from lets_site.web.forms import BaseForm, choices

SECTOR_CHOICES = choices(labels.SECTORS.items())
NAME_REQUIRED = _l("Fill in the name.")


class CheckboxesField(SelectMultipleField):
    """Several choices as check boxes (readable in a text browser, no script)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PartnerForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(NAME_REQUIRED),
                                               Length(max=s.NAME_MAX)])
    sector = SelectField(_l("Sector"), choices=SECTOR_CHOICES, default="other")
    description = TextAreaField(_l("Description"),
                                validators=[Optional(), Length(max=s.TEXT_MAX)],
                                description=_l("What the organisation does. You can use "
                                               "Markdown."))
    website = StringField(_l("Website"), validators=[Optional(), Length(max=s.SHORT_MAX)],
                          render_kw={"inputmode": "url"})
    address = StringField(_l("Address"), validators=[Optional(), Length(max=s.SHORT_MAX)])
    gives = TextAreaField(_l("What they give the group"),
                          validators=[Optional(), Length(max=s.TEXT_MAX)],
                          description=_l("Rooms, printing, a small subsidy, a film, a "
                                         "speaker ..."))
    needs = TextAreaField(_l("What they need"), validators=[Optional(), Length(max=s.TEXT_MAX)])
    visibility = SelectField(_l("Who can see this partner"),
                             choices=choices(labels.VISIBILITY.items()), default="public")
    logo = FileField(_l("Logo (optional)"),
                     description=_l("JPEG, PNG, WebP or GIF, at most 10 MB. We make it "
                                    "smaller and remove hidden data such as location."),
                     render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"})
    remove_logo = BooleanField(_l("Remove the logo"))

    def data_for_service(self) -> s.PartnerData:
        upload = self.logo.data
        return s.PartnerData(
            name=self.name.data or "", sector=self.sector.data or "",
            description=self.description.data or "", website=self.website.data or "",
            address=self.address.data or "", gives=self.gives.data or "",
            needs=self.needs.data or "", visibility=self.visibility.data or "",
            logo=upload.stream if upload and getattr(upload, "filename", "") else None,
            remove_logo=bool(self.remove_logo.data),
        )


class MemberPartnerForm(PartnerForm):
    """A member organisation's partner record: its name is the organisation's own."""

    name = HiddenField()


class ContactForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(NAME_REQUIRED), Length(max=120)])
    role = StringField(_l("Role"), validators=[Optional(), Length(max=120)],
                       description=_l("For example: sustainability officer, coordinator."))
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)],
                        render_kw={"inputmode": "email", "autocomplete": "off"})
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    visibility = SelectField(_l("Who can see this contact person"),
                             choices=choices(labels.CONTACT_VISIBILITY.items()),
                             default="members")

    def data_for_service(self) -> s.ContactData:
        return s.ContactData(name=self.name.data or "", role=self.role.data or "",
                             email=self.email.data or "", phone=self.phone.data or "",
                             visibility=self.visibility.data or "")


class CollaborationForm(BaseForm):
    happened_on = DateTextField(_l("Date"), validators=[InputRequired(_l("Fill in the date."))])
    title = StringField(_l("What we did together"),
                        validators=[DataRequired(_l("Say what you did together.")),
                                    Length(max=s.NAME_MAX)],
                        description=_l("For example: film screening A Plastic Ocean."))
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=s.TEXT_MAX)],
                                description=_l("Who did what. You can use Markdown."))
    support = CheckboxesField(_l("Support we received"),
                              choices=choices(labels.SUPPORT.items()), validators=[Optional()])
    amount = DecimalTextField(_l("Amount received in euro"), places=2,
                              validators=[Optional()],
                              description=_l("With money support; for example 150 or 75,50."))
    open_to_non_members = BooleanField(_l("Open to non-members"))
    visitors = IntegerField(_l("Number of visitors"),
                            validators=[Optional(), NumberRange(min=0, max=s.MAX_VISITORS)],
                            render_kw={"inputmode": "numeric"})
    visibility = SelectField(_l("Who can see this"), choices=choices(labels.VISIBILITY.items()),
                             default="public")
    # The service decides which events may be named (the choices are the page's offer).
    event_id = SelectField(_l("Event (optional)"), choices=[], validate_choice=False,
                           description=_l("The event this collaboration was part of."))

    def set_events(self, events: list[tuple[int, Any]], format_day: Any) -> None:
        self.event_id.choices = choices(
            [("", _l("no event")),
             *[(str(i), f"{format_day(item.start)} · {item.title}" if item.start
                else item.title) for i, item in events]])

    def data_for_service(self) -> s.CollaborationData:
        value = self.event_id.data or ""
        return s.CollaborationData(
            event_id=int(value) if value.isascii() and value.isdigit() and len(value) < 10
            else None,
            happened_on=self.happened_on.data, title=self.title.data or "",
            description=self.description.data or "",
            support=[str(v) for v in (self.support.data or [])], amount=self.amount.data,
            open_to_non_members=bool(self.open_to_non_members.data),
            visitors=self.visitors.data, visibility=self.visibility.data or "",
        )


class ProspectForm(BaseForm):
    name = StringField(_l("Organisation"), validators=[DataRequired(NAME_REQUIRED),
                                                       Length(max=s.NAME_MAX)])
    sector = SelectField(_l("Sector"), choices=SECTOR_CHOICES, default="other")
    owner_id = SelectField(_l("Volunteer who owns it"), choices=[], validators=[Optional()])
    next_step = StringField(_l("Next step"), validators=[Optional(),
                                                         Length(max=s.NEXT_STEP_MAX)])
    next_step_on = DateTextField(_l("Date of the next step"), validators=[Optional()])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=120)])
    contact_email = StringField(_l("Contact's e-mail"), validators=[Optional(), Length(max=254)],
                                render_kw={"inputmode": "email", "autocomplete": "off"})
    website = StringField(_l("Website"), validators=[Optional(), Length(max=s.SHORT_MAX)],
                          render_kw={"inputmode": "url"})
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=s.TEXT_MAX)],
                          description=_l("Seen by partner coordinators and admins only."))

    def set_owners(self, people: list[object]) -> None:
        self.owner_id.choices = choices(
            [("", _l("nobody yet")),
             *[(str(p.id), p.display_name) for p in people]])  # type: ignore[attr-defined]

    def data_for_service(self) -> s.ProspectData:
        owner = self.owner_id.data or ""
        return s.ProspectData(
            name=self.name.data or "", sector=self.sector.data or "",
            owner_id=int(owner) if owner.isascii() and owner.isdigit() and len(owner) < 10
            else None,
            next_step=self.next_step.data or "", next_step_on=self.next_step_on.data,
            contact_name=self.contact_name.data or "",
            contact_email=self.contact_email.data or "", website=self.website.data or "",
            notes=self.notes.data or "",
        )


class MoveForm(BaseForm):
    status = SelectField(_l("Move to"), choices=choices(labels.STATUSES.items()),
                         validate_choice=False)


class LogForm(BaseForm):
    happened_on = DateTextField(_l("Date"), validators=[InputRequired(_l("Fill in the date."))])
    medium = SelectField(_l("How"), choices=choices(labels.MEDIA.items()), default="email")
    summary = TextAreaField(_l("What was said or agreed"),
                            validators=[DataRequired(_l("Write what was said or agreed.")),
                                        Length(max=s.TEXT_MAX)])

    def data_for_service(self) -> s.LogData:
        return s.LogData(happened_on=self.happened_on.data, medium=self.medium.data or "",
                         summary=self.summary.data or "")


class ScriptForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Fill in a title.")),
                                                 Length(max=120)])
    language = SelectField(_l("Language"), choices=choices(labels.LANGUAGES.items()),
                           default="nl")
    subject = StringField(_l("Subject"), validators=[DataRequired(_l("Fill in the subject.")),
                                                     Length(max=s.SUBJECT_MAX)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(_l("Write the text.")),
                                                 Length(max=s.BODY_MAX)],
                         description=_l("Markdown. Placeholders: %(names)s.",
                                        names=", ".join("{%s}" % n  # noqa: UP031
                                                        for n in s.PLACEHOLDERS)))
    shared = BooleanField(_l("Share with other LETS groups"),
                          description=_l("Published on this site for other groups to import, "
                                         "as written: the values this group fills in are "
                                         "not part of it."))

    def data_for_service(self) -> s.ScriptData:
        return s.ScriptData(title=self.title.data or "", language=self.language.data or "",
                            subject=self.subject.data or "", body=self.body.data or "",
                            shared=bool(self.shared.data))


class ScriptValuesForm(BaseForm):
    our_offer = TextAreaField(_l("Our offer"), validators=[Optional(), Length(max=2000)],
                              description=_l("Fills {our_offer}: what the group offers a "
                                             "partner."))
    next_intro_evening = StringField(_l("Next intro evening"),
                                     validators=[Optional(), Length(max=200)],
                                     description=_l("Fills {next_intro_evening}: date, time "
                                                    "and place."))


class ImportForm(BaseForm):
    file = FileField(_l("File of contact scripts (JSON)"),
                     render_kw={"accept": "application/json,.json"})


class CoordinatorForm(BaseForm):
    account_code = StringField(_l("Account code of the member"),
                               validators=[DataRequired(_l("Fill in an account code.")),
                                           Length(max=16)])


class EmptyForm(BaseForm):
    """Only the CSRF token: for buttons that post."""


class ChoiceForm(BaseForm):
    """A button that names one row (a contact person, a coordinator)."""

    row_id = HiddenField(validators=[DataRequired()])

    def row(self) -> int | None:
        value = self.row_id.data or ""
        return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


class SendForm(BaseForm):
    script_id = HiddenField(validators=[DataRequired()])
