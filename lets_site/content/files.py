"""Document files: what a file is (by its content, never the client's word), where it is
kept (instance/uploads/documents/, outside static/) and how it is named for download."""

from __future__ import annotations

import io
import secrets
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import quote

from flask import current_app

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# Detected kind -> (content type, extension).
KINDS = {
    "pdf": ("application/pdf", "pdf"),
    "odt": ("application/vnd.oasis.opendocument.text", "odt"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "png": ("image/png", "png"),
    "jpeg": ("image/jpeg", "jpg"),
    "gif": ("image/gif", "gif"),
}
# Extensions people give each kind.
EXTENSIONS = {"pdf": {"pdf"}, "odt": {"odt"}, "ods": {"ods"}, "docx": {"docx"},
              "xlsx": {"xlsx"}, "png": {"png"}, "jpeg": {"jpg", "jpeg"}, "gif": {"gif"}}

_OPEN_DOCUMENT = {"application/vnd.oasis.opendocument.text": "odt",
                  "application/vnd.oasis.opendocument.spreadsheet": "ods"}


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                return _OPEN_DOCUMENT.get(mimetype)
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return "docx"
                if any(n.startswith("xl/") for n in names):
                    return "xlsx"
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def sniff(data: bytes) -> str | None:
    """The kind of file ``data`` is, from its first bytes (and, for office files, the
    archive's table of contents); None for anything else (HTML, scripts, executables)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def clean_file_name(name: str, kind: str) -> str:
    """The name a download gets: the uploaded name without folders or control characters,
    ending in the detected kind's extension."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name)
                   if unicodedata.category(c)[0] != "C").strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem[:150] or 'document'}.{KINDS[kind][1]}"


def content_disposition(file_name: str, inline: bool = False) -> str:
    """RFC 6266: an ASCII fallback ``filename`` and the real name as ``filename*``."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_"
                       for c in unicodedata.normalize("NFKD", file_name)
                       if not unicodedata.combining(c))
    kind = "inline" if inline else "attachment"
    return (f'{kind}; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(file_name, safe='')}")


def folder() -> Path:
    path = Path(current_app.instance_path) / "uploads" / "documents"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_stored_name(kind: str) -> str:
    return f"{secrets.token_hex(16)}.{KINDS[kind][1]}"


def path_of(stored_name: str) -> Path:
    return folder() / Path(stored_name).name
