from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
)

from lets_site.members.models import Status, Visibility
from lets_site.members.services import PASSWORD_MAX, PASSWORD_MIN, ProfileData
from lets_site.web.forms import BaseForm, choices

VISIBILITY_CHOICES = choices([
    (Visibility.HIDDEN.value, _l("Nobody (only the admins)")),
    (Visibility.MEMBERS.value, _l("Members of the group")),
    (Visibility.PUBLIC.value, _l("Everyone, also visitors")),
])

STATUS_LABELS = {
    Status.CANDIDATE.value: _l("candidate"),
    Status.ACTIVE.value: _l("active"),
    Status.LEAVING.value: _l("leaving"),
    Status.INACTIVE.value: _l("inactive"),
}


class EmptyForm(BaseForm):
    """Only the CSRF token: for buttons that post."""


class LoginForm(BaseForm):
    identifier = StringField(
        _l("E-mail address or account code"),
        validators=[DataRequired(_l("Fill in your e-mail address or account code.")),
                    Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Fill in your password.")), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Stay logged in on this device"))
    next = HiddenField()


def _password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(
            _l("Password"),
            validators=[
                DataRequired(_l("Choose a password.")),
                Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
                       message=_l("Between %(min)d and %(max)d characters.")),
            ],
            description=_l("At least %(n)d characters. A short sentence is easy to remember.",
                           n=PASSWORD_MIN),
            render_kw={"autocomplete": "new-password"},
        ),
        PasswordField(
            _l("Password again"),
            validators=[DataRequired(_l("Type the password once more.")),
                        EqualTo("password", message=_l("The two passwords are not the same."))],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class ProfileFields(BaseForm):
    display_name = StringField(
        _l("Name shown to others"),
        validators=[DataRequired(_l("Fill in a name.")), Length(max=80)],
        description=_l("For example your first name and the first letter of your surname."),
    )
    full_name = StringField(
        _l("Full name"), validators=[DataRequired(_l("Fill in your full name.")), Length(max=160)]
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[Optional(), Email(message=_l("This is not a valid e-mail address.")),
                    Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)],
                        render_kw={"autocomplete": "tel"})
    address = StringField(_l("Street and number"), validators=[Optional(), Length(max=200)],
                          render_kw={"autocomplete": "address-line1"})
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=12)],
                           render_kw={"autocomplete": "postal-code"})
    languages = StringField(
        _l("Languages you speak"), validators=[Optional(), Length(max=80)],
        description=_l("For example: Nederlands, Français"),
    )
    bio = TextAreaField(
        _l("About you"), validators=[Optional(), Length(max=4000)],
        description=_l("A few lines about yourself. Write **bold**, *italic*, and a list with - "
                       "at the start of each line."),
    )

    def profile_data(self) -> ProfileData:
        privacy = {
            name: self._fields[name].data
            for name in ("email_visibility", "phone_visibility", "address_visibility",
                         "profile_public")
            if name in self._fields
        }
        return ProfileData(
            display_name=self.display_name.data or "",
            full_name=self.full_name.data or "",
            email=self.email.data or None,
            phone=self.phone.data or "",
            address=self.address.data or "",
            postcode=self.postcode.data or "",
            languages=self.languages.data or "",
            bio=self.bio.data or "",
            **privacy,
        )


class JoinForm(ProfileFields):
    password, password_confirm = _password_fields()
    agree = BooleanField(
        _l("I have read how the group works and want to join."),
        validators=[DataRequired(_l("Tick this box to apply."))],
    )


class PrivacyFields:
    email_visibility = SelectField(_l("Who sees my e-mail address"), choices=VISIBILITY_CHOICES,
                                   default=Visibility.MEMBERS.value)
    phone_visibility = SelectField(_l("Who sees my phone number"), choices=VISIBILITY_CHOICES,
                                   default=Visibility.MEMBERS.value)
    address_visibility = SelectField(_l("Who sees my address"), choices=VISIBILITY_CHOICES,
                                     default=Visibility.MEMBERS.value)
    profile_public = BooleanField(
        _l("Visitors who are not logged in may see my name and what I made public")
    )


class ProfileForm(ProfileFields, PrivacyFields):
    pass


class EditProfileForm(ProfileForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[Optional(), Length(max=PASSWORD_MAX)],
        description=_l("Only needed to change your e-mail address."),
        render_kw={"autocomplete": "current-password"},
    )


class AdminMemberForm(ProfileForm):
    account_code = StringField(
        _l("Account code"),
        validators=[DataRequired(_l("Give the member an account code.")), Length(max=16)],
    )
    managed_by_admin = BooleanField(_l("This member has no e-mail or internet: admins manage "
                                       "the account"))


class ApproveForm(BaseForm):
    account_code = StringField(
        _l("Account code"),
        validators=[DataRequired(_l("Give the member an account code.")), Length(max=16)],
    )


class StatusForm(BaseForm):
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS.items()))


class RolesForm(BaseForm):
    admin = BooleanField(_l("Admin"))
    organiser = BooleanField(_l("Organiser of events"))


class SetPasswordForm(BaseForm):
    password, password_confirm = _password_fields()


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Fill in your current password.")), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    password, password_confirm = _password_fields()


class ForgotPasswordForm(BaseForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Fill in your e-mail address.")),
                    Email(message=_l("This is not a valid e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class CloseAccountForm(BaseForm):
    confirm = BooleanField(
        _l("Yes, I want to leave the group and close my account."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class DirectoryForm(BaseForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Name, account code or postcode"), validators=[Optional(), Length(max=80)])
    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("active and leaving")), ("all", _l("all")),
                         *STATUS_LABELS.items()]),
        validators=[Optional()],
    )
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100000)], default=1)

