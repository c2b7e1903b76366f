from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Length, Optional

from lets_site.organisations.services import OrganisationData
from lets_site.web.forms import BaseForm


class OrganisationForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Fill in the name.")),
                                                Length(max=160)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=8000)],
        description=_l("What the organisation does. Write **bold**, *italic*, and a list with - "
                       "at the start of each line."),
    )
    website = URLField(_l("Website"), validators=[Optional(), Length(max=300)])

    def organisation_data(self) -> OrganisationData:
        return OrganisationData(
            name=self.name.data or "",
            description=self.description.data or "",
            website=self.website.data or "",
        )


class NewOrganisationForm(OrganisationForm):
    account_code = StringField(
        _l("Account code"),
        validators=[DataRequired(_l("Give the organisation an account code.")), Length(max=16)],
    )


class IntermediaryForm(BaseForm):
    account_code = StringField(
        _l("Account code of the member"),
        validators=[DataRequired(_l("Fill in an account code.")), Length(max=16)],
    )


class RemoveIntermediaryForm(BaseForm):
    member_id = HiddenField(validators=[DataRequired()])
