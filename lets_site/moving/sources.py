"""Reading the files of the group's old system: eLAS and eLAND CSV exports and a plain
spreadsheet (docs/import.md).

Each file is decoded (UTF-8 with or without a byte order mark, else Windows-1252 or
Latin-1: which one is said in the preview), split on ``;`` or ``,`` (whichever the header
line has more of), and its columns are named by the aliases below, whatever system wrote
them. The kind of file (members, organisations, categories, ads, transactions, contacts)
follows from its columns; a file name with "organi" in it holds organisations.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

# Encodings, as the preview states them.
UTF8_BOM = "UTF-8 (with BOM)"
UTF8 = "UTF-8"
CP1252 = "Windows-1252"
LATIN1 = "Latin-1 (ISO-8859-1)"
CP1252_OR_LATIN1 = "Windows-1252 / Latin-1"
_CODECS = {UTF8_BOM: "utf-8-sig", UTF8: "utf-8", CP1252: "cp1252", LATIN1: "latin-1",
           CP1252_OR_LATIN1: "cp1252"}

MEMBERS = "members"
ORGANISATIONS = "organisations"
CATEGORIES = "categories"
ADS = "ads"
TRANSACTIONS = "transactions"
CONTACTS = "contacts"
KINDS = (MEMBERS, ORGANISATIONS, CATEGORIES, ADS, TRANSACTIONS, CONTACTS)

# Our field -> the column names that mean it (eLAS, eLAND, plain spreadsheet in Dutch,
# French and English), compared in lower case with spaces and dashes as underscores.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "user_id_source"),
    "code": ("letscode", "code", "account_code", "accountcode", "account", "rekening",
             "compte", "user_code", "owner", "eigenaar"),
    "name": ("name", "display_name", "naam", "nom"),
    "full_name": ("full_name", "fullname", "volledige_naam", "nom_complet"),
    "email": ("email", "e_mail", "mail", "courriel"),
    "phone": ("phone", "telefoon", "tel", "gsm", "mobile", "telephone", "téléphone"),
    "address": ("address", "adres", "adr", "adresse"),
    "postcode": ("postcode", "postal_code", "zip", "code_postal"),
    "status": ("status", "statut"),
    "role": ("role", "accountrole", "rol"),
    "min": ("minlimit", "min_limit", "minimum", "min"),
    "max": ("maxlimit", "max_limit", "maximum", "max"),
    "balance": ("saldo", "balance", "stand", "solde"),
    "joined": ("adate", "activeringsdatum", "joined_on", "lid_sinds", "member_since"),
    "description_text": ("comments", "hobbies", "about", "bio"),
    # Transactions
    "date": ("datum", "date", "transaction_date"),
    "from": ("van", "from", "payer", "from_code", "betaler", "payeur"),
    "to": ("aan", "to", "payee", "to_code", "ontvanger", "beneficiaire", "bénéficiaire"),
    "from_id": ("id_from", "from_id", "from_user_id"),
    "to_id": ("id_to", "to_id", "to_user_id"),
    "amount": ("bedrag", "amount", "montant"),
    "description": ("dienst", "description", "omschrijving", "beschrijving"),
    # Ads and categories
    "owner_id": ("user_id", "id_user"),
    "type": ("msg_type", "offer_want", "type", "soort", "kind"),
    "category": ("category", "categorie", "catégorie", "rubriek", "category_name"),
    "category_id": ("category_id", "id_category"),
    "title": ("subject", "title", "titel", "titre"),
    "content": ("content",),
    "validity": ("validity", "expires_at", "valid_until", "geldig_tot", "vervaldatum"),
    "parent": ("id_parent", "parent_id", "parent", "hoofdcategorie"),
    "created": ("cdate", "created_at", "created"),
    # Contacts (eLAS contacts.csv: letscode, username, abbrev, comments, value,
    # flag_public; eLAND's contact table: user_id, value, access, the type's abbrev)
    "contact_type": ("abbrev", "contact_type", "type_contact", "contacttype",
                     "soort_contact", "type_de_contact"),
    "value": ("value", "waarde", "valeur"),
    "public": ("flag_public", "access", "visibility", "zichtbaarheid", "visibilité"),
}
_LOOKUP = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


def column_key(header: str) -> str:
    text = unicodedata.normalize("NFC", header.strip().strip('"').lower())
    return re.sub(r"[\s\-]+", "_", text)


@dataclass
class Row:
    line: int
    values: dict[str, str]
    columns: dict[str, str]  # our field -> the file's own column name (for reports)

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()


@dataclass
class SourceFile:
    name: str
    encoding: str
    delimiter: str
    kind: str | None
    headers: list[str]
    fields: dict[str, str]  # our field -> the file's column name
    rows: list[Row] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.fields


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without a byte order mark), else Windows-1252, else Latin-1.

    Windows-1252 and Latin-1 write é, è, ç ... with the same bytes; they differ in
    0x80-0x9F (the euro sign and curly quotes in Windows-1252, control characters in
    Latin-1). A file without those bytes reads the same either way and is stated so."""
    if data.startswith(b"\xef\xbb\xbf"):
        return UTF8_BOM
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return UTF8
    if not any(0x80 <= b <= 0x9F for b in data):
        return CP1252_OR_LATIN1
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: not Windows-1252
        return LATIN1
    return CP1252


def decode(data: bytes) -> tuple[str, str]:
    encoding = detect_encoding(data)
    return data.decode(_CODECS[encoding]), encoding


def detect_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _kind(name: str, fields: dict[str, str]) -> str | None:
    """The kind of file, by its columns (and, where they say too little, its name)."""
    has = fields.__contains__
    lower = name.lower()
    if has("contact_type") and has("value"):
        return CONTACTS
    if ((has("from") or has("from_id")) and (has("to") or has("to_id"))) or "transac" in lower:
        return TRANSACTIONS
    if (has("type") and (has("title") or has("content"))) or any(
            word in lower for word in ("message", "advert", "ads", "zoekertje", "annonce")):
        return ADS
    if "organi" in lower:
        return ORGANISATIONS
    if has("code") or any(word in lower for word in ("user", "member", "leden", "membre")):
        return MEMBERS
    if has("name") and (has("parent") or "categor" in lower):
        return CATEGORIES
    return None


def read(name: str, data: bytes) -> SourceFile:
    """One file, decoded and split, its columns named by our fields."""
    text, encoding = decode(data)
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        headers = []
    fields: dict[str, str] = {}
    index: dict[str, int] = {}
    for i, header in enumerate(headers):
        ours = _LOOKUP.get(column_key(header))
        if ours is not None and ours not in fields:  # eLAS repeats interSysteem
            fields[ours] = header.strip()
            index[ours] = i
    kind = _kind(name, fields)
    if kind == TRANSACTIONS and "date" not in fields and "created" in fields:
        # eLAND's transactions have only created_at: it is the date of the transaction.
        fields["date"], index["date"] = fields.pop("created"), index.pop("created")
    source = SourceFile(name, encoding, delimiter, kind, headers, fields)
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        values = {ours: cells[i] if i < len(cells) else "" for ours, i in index.items()}
        source.rows.append(Row(start, values, fields))
    return source
