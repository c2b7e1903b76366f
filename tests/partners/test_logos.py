"""Partner logos: through the shared image pipeline, on the edit form (POST, CSRF, no
script needed), shown small with the partner's name as alt text, refused files as a
message on the field, members-only partners' logos for members only."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from lets_site import photos
from lets_site.extensions import db
from lets_site.partners import services
from lets_site.partners.models import Partner
from tests import uploads
from tests.html import select_text
from tests.partners.helpers import make_partner


def png(color: tuple[int, int, int] = (200, 30, 30)) -> io.BytesIO:
    return io.BytesIO(uploads.png(color))


def _form(partner: Partner, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": partner.name, "sector": partner.sector,
                            "visibility": partner.visibility}
    data.update(extra)
    return data


def _post(client: Any, partner: Partner, upload: io.BytesIO | None = None,
          filename: str = "logo.png", **extra: Any) -> Any:
    data = _form(partner, **extra)
    if upload is not None:
        data["logo"] = (upload.getvalue(), filename)
    return uploads.post_multipart(client, f"/partners/{partner.slug}/edit", data)


def _logo_paths(page: Any) -> list[str]:
    return re.findall(r'src="(/partners/logos/[0-9a-f]{32}-t\.jpg)"', page.get_data(as_text=True))


@pytest.mark.parametrize("role, status", [
    ("admin", 303), ("coordinator", 303), ("member", 403), ("intermediary", 403),
    ("anonymous", 302),
])
def test_who_may_change_a_logo(client: Any, login_as: Any, people: dict[str, Any],
                               coordinator: Any, role: str, status: int) -> None:
    partner = make_partner(coordinator, "Bibliotheek Ieper")
    people["coordinator"] = coordinator
    login_as(role)
    response = _post(client, partner, png())
    assert response.status_code == status
    db.session.expire_all()
    assert (db.session.get(Partner, partner.id).logo_key is not None) == (status == 303)


def test_logo_upload_replace_and_remove(client: Any, auth: Any, coordinator: Any) -> None:
    partner = make_partner(coordinator, "Vormingplus")
    assert auth.login(coordinator.account_code).status_code == 303
    assert _post(client, partner, png((200, 30, 30))).status_code == 303
    db.session.expire_all()
    first = db.session.get(Partner, partner.id).logo_key
    assert first and partner.logo_width == 240 and partner.logo_height == 96
    # The directory and the page show it small, named by the partner's name.
    directory = client.get("/partners/")
    [path] = _logo_paths(directory)
    assert 'alt="Vormingplus"' in directory.get_data(as_text=True)
    assert client.get(path).status_code == 200
    page = client.get(f"/partners/{partner.slug}")
    assert _logo_paths(page) == [path]
    assert 'width="240" height="96"' in page.get_data(as_text=True)
    # The edit form shows the current logo and offers to remove it.
    form = client.get(f"/partners/{partner.slug}/edit").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'name="remove_logo"' in form
    # Saving without a file keeps the logo; a new file replaces it.
    assert _post(client, partner).status_code == 303
    db.session.expire_all()
    assert db.session.get(Partner, partner.id).logo_key == first
    assert _post(client, partner, png((10, 150, 40))).status_code == 303
    db.session.expire_all()
    second = db.session.get(Partner, partner.id).logo_key
    assert second and second != first
    # The old file is no partner's logo any more: nobody gets it.
    assert client.get(path).status_code == 404
    assert _post(client, partner, remove_logo="y").status_code == 303
    db.session.expire_all()
    assert db.session.get(Partner, partner.id).logo_key is None
    assert _logo_paths(client.get("/partners/")) == []


@pytest.mark.parametrize("content, filename, message", [
    (b"<!doctype html><html><script>alert(1)</script></html>", "logo.png", "not a photo"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.svg",
     "not a photo"),
    (b"\xff" * (photos.MAX_UPLOAD_BYTES + 1), "logo.jpg", "10 MB"),
])
def test_a_refused_file_is_a_message_on_the_field(client: Any, auth: Any, coordinator: Any,
                                                  content: bytes, filename: str,
                                                  message: str) -> None:
    partner = make_partner(coordinator, "Cultuurraad", description="Oud")
    assert auth.login(coordinator.account_code).status_code == 303
    response = _post(client, partner, io.BytesIO(content), filename=filename,
                     description="Nieuw")
    assert response.status_code == 200
    assert message in select_text(response, "#logo-error")
    db.session.expire_all()
    kept = db.session.get(Partner, partner.id)
    assert kept.logo_key is None and kept.description == "Oud"  # nothing half-saved


def test_a_members_only_partners_logo_is_for_members(client: Any, auth: Any,
                                                     people: dict[str, Any],
                                                     coordinator: Any) -> None:
    partner = make_partner(coordinator, "Voedselteam", visibility="members", logo=png())
    public = make_partner(coordinator, "Stad Ieper", logo=png((0, 0, 200)))
    hidden = f"/partners/logos/{photos.file_name(partner.logo_key or '', thumb=True)}"
    shown = f"/partners/logos/{photos.file_name(public.logo_key or '', thumb=True)}"
    assert client.get(hidden).status_code == 404
    response = client.get(shown)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == photos.PUBLIC_CACHE
    assert auth.login(people["member"].account_code).status_code == 303
    response = client.get(hidden)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == photos.PRIVATE_CACHE


def test_logo_needs_a_coordinator_in_the_service(people: dict[str, Any],
                                                 coordinator: Any) -> None:
    partner = make_partner(coordinator, "Dienstencentrum")
    with pytest.raises(services.PermissionDenied):
        services.update_partner(people["member"], partner, services.PartnerData(
            name=partner.name, logo=png()))
