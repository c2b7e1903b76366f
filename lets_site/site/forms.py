from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from lets_site.site.services import SettingsData
from lets_site.web.forms import BaseForm, choices

LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}


class LanguageForm(BaseForm):
    lang = HiddenField()
    next = HiddenField()


# The groups' own zones first; then the rest, grouped by region (about 600 in all).
COMMON_TIMEZONES = ("Europe/Brussels", "Europe/Amsterdam", "Europe/Paris", "Europe/Luxembourg")


def timezone_choices() -> dict[str, list[tuple[str, str]]]:
    """Options for the time zone: the common ones, then one group per region."""
    groups: dict[str, list[tuple[str, str]]] = {
        str(_l("Most used")): [(z, z) for z in COMMON_TIMEZONES]}
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc")
                   and z not in COMMON_TIMEZONES)
    for zone in zones:
        groups.setdefault(zone.split("/", 1)[0], []).append((zone, zone))
    return groups


class SettingsForm(BaseForm):
    group_name = StringField(_l("Name of the group"),
                             validators=[DataRequired(_l("Fill in the group's name.")),
                                         Length(max=120)])
    slug = StringField(
        _l("Short name (slug)"),
        validators=[DataRequired(_l("Fill in a short name.")), Length(max=40),
                    Regexp(r"^[a-z0-9][a-z0-9-]*$",
                           message=_l("Lower-case letters, digits and dashes only."))],
        description=_l("Used by the federation to know this group, e.g. lets-ieper."),
    )
    code_prefix = StringField(
        _l("Prefix of account codes"),
        validators=[DataRequired(_l("Fill in a prefix.")), Length(max=6),
                    Regexp(r"^[A-Za-z]{1,6}$", message=_l("One to six letters."))],
        description=_l("New members get codes like IE-042."),
    )
    locality = StringField(_l("Town or city"), validators=[Optional(), Length(max=80)])
    region = StringField(_l("Region or province"), validators=[Optional(), Length(max=80)])
    country = StringField(
        _l("Country code"),
        validators=[DataRequired(_l("Fill in a country code.")),
                    Regexp(r"^[A-Za-z]{2}$", message=_l("Two letters, e.g. BE."))],
    )
    timezone = SelectField(_l("Time zone"), choices=[])
    unit_name = StringField(
        _l("Name of the unit"),
        validators=[DataRequired(_l("Fill in the unit's name.")), Length(max=40)],
        description=_l("For example: uur, Ieperlinck, punt."),
    )
    default_language = SelectField(_l("Default language"),
                                   choices=choices(LANGUAGE_NAMES.items()))
    about = TextAreaField(_l("About the group"), validators=[Optional(), Length(max=20000)],
                          description=_l("Shown on the home page. Write **bold**, *italic*, "
                                         "and a list with - at the start of each line."))
    contact_email = EmailField(
        _l("Contact e-mail address"),
        validators=[Optional(), Email(message=_l("This is not a valid e-mail address.")),
                    Length(max=254)],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()  # type: ignore[assignment]

    def settings_data(self) -> SettingsData:
        return SettingsData(
            group_name=(self.group_name.data or "").strip(),
            slug=(self.slug.data or "").strip(),
            code_prefix=(self.code_prefix.data or "").strip().upper(),
            locality=(self.locality.data or "").strip(),
            region=(self.region.data or "").strip(),
            country=(self.country.data or "").strip().upper(),
            timezone=self.timezone.data or "",
            unit_name=(self.unit_name.data or "").strip(),
            default_language=self.default_language.data or "nl",
            about=self.about.data or "",
            contact_email=(self.contact_email.data or "").strip(),
        )
