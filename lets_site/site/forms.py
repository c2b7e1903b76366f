from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, Field, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from lets_site.site.services import TEXT_FIELDS, TEXT_NAMES, SettingsData
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
    default_language = SelectField(_l("Default language"),
                                   choices=choices(LANGUAGE_NAMES.items()))
    # The group's own words per language (see TEXT_FIELDS): an empty one falls back to
    # the default language's.
    unit_singular_nl = StringField(_l("Unit name, singular"), validators=[Length(max=40)],
                                   description=_l("For example: uur, Ieperlinck, punt."))
    unit_plural_nl = StringField(_l("Unit name, plural"), validators=[Length(max=40)],
                                 description=_l("For example: uren, Ieperlincken, punten."))
    about_nl = TextAreaField(_l("About the group"), validators=[Length(max=20000)],
                             description=_l("Shown on the home page. Write **bold**, *italic*, "
                                            "and a list with - at the start of each line."))
    unit_singular_fr = StringField(_l("Unit name, singular"), validators=[Length(max=40)],
                                   description=_l("For example: heure, point."))
    unit_plural_fr = StringField(_l("Unit name, plural"), validators=[Length(max=40)],
                                 description=_l("For example: heures, points."))
    about_fr = TextAreaField(_l("About the group"), validators=[Length(max=20000)],
                             description=_l("Shown on the home page. Write **bold**, *italic*, "
                                            "and a list with - at the start of each line."))
    unit_singular_en = StringField(_l("Unit name, singular"), validators=[Length(max=40)],
                                   description=_l("For example: hour, point."))
    unit_plural_en = StringField(_l("Unit name, plural"), validators=[Length(max=40)],
                                 description=_l("For example: hours, points."))
    about_en = TextAreaField(_l("About the group"), validators=[Length(max=20000)],
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
            default_language=self.default_language.data or "nl",
            contact_email=(self.contact_email.data or "").strip(),
            texts={name: self._text(name) for name in TEXT_FIELDS},
        )

    def _text(self, name: str) -> str:
        value = self[name].data or ""
        return value if name.startswith("about") else value.strip()

    def language_fields(self) -> list[tuple[str, list[Field]]]:
        """The per-language fields, one group per language, the default language first."""
        order = sorted(LANGUAGE_NAMES, key=lambda lang: lang != self.default_language.data)
        return [(lang, [self[f"{name}_{lang}"] for name in TEXT_NAMES]) for lang in order]
