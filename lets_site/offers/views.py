from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from lets_site import features, fragments
from lets_site.domain import DomainError, NotFound, PermissionDenied
from lets_site.extensions import login_manager
from lets_site.ledger import services as ledger
from lets_site.members.models import Visibility
from lets_site.offers import photos, services
from lets_site.offers.forms import (
    KIND_LABELS,
    OWNER_OPTIONS,
    SORT_OPTIONS,
    TYPE_OPTIONS,
    ActingForm,
    CategoryForm,
    EmptyForm,
    ListingForm,
    RespondForm,
    category_choices,
    parse_filters,
)
from lets_site.offers.models import Listing, PriceBasis
from lets_site.settings import get_settings
from lets_site.web import htmx
from lets_site.web.forms import choices, safe_next, see_other
from lets_site.web.security import admin_required
from lets_site.web.submit import act, submit

bp = Blueprint("offers", __name__)

ACTING_KEY = "acting_for"


def _locale() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return str(locale.language) if locale else "nl"


def _viewer() -> object | None:
    return current_user if current_user.is_authenticated else None


def _acting_for() -> object | None:
    if not current_user.is_authenticated:
        return None
    org = services.resolve_acting_for(current_user, session.get(ACTING_KEY))
    if org is None:
        session.pop(ACTING_KEY, None)
    return org


@bp.app_context_processor
def _inject() -> dict[str, object]:
    return {"listing_photo_url": _photo_url, "kind_labels": KIND_LABELS,
            "listing_postcode": _postcode}


def _postcode(listing: Listing) -> Markup:
    """" · 8900": the contact's postcode for a logged-in viewer who may see it (it follows
    the address's visibility). A member always sees their own: in a list kept for everyone
    (lets_site/fragments.py) that is a mark filled per viewer."""
    contact = listing.contact
    if contact is None or not contact.postcode or not current_user.is_authenticated:
        return Markup()
    shown = current_user.is_admin or contact.address_visibility in (Visibility.PUBLIC,
                                                                    Visibility.MEMBERS)
    return fragments.viewer_mark(contact.id, Markup(" · %s") % contact.postcode, shown)


def _photo_url(listing: Listing, thumb: bool = False) -> str:
    return url_for("offers.photo", name=photos.file_name(listing.photo_key or "", thumb))


# --- Browsing -------------------------------------------------------------------------------


@bp.route("/offers/")
def index() -> Response:
    categories = services.category_tree()
    filters = parse_filters(request.args, {c.slug for c in categories})
    # The "more" link asks for the next items alone in its URL (the page cache's key); the
    # full page always has the whole list.
    partial = ("offers/_items.html" if htmx.wants_partial()
               and request.args.get("part") == "items" else "offers/_list.html")
    viewer = _viewer()
    who = fragments.audience()
    # The results are the same HTML for everyone in an audience, in a language, for the
    # same query (kept per process: lets_site/fragments.py); a member's own postcode is a
    # mark filled per viewer. Only a postcode search finds different rows per member (a
    # member's own hidden address matches for them alone): keyed by the member then.
    key = ("offers.list", partial, who, _locale(), tuple(request.args.items(multi=True)),
           viewer.id if filters.postcode and who.startswith("member") else None)  # type: ignore[attr-defined]
    results = fragments.fragment(
        key, lambda: render_template(partial, filters=filters,
                                     page=services.browse(viewer, filters)),
        lapses=services.next_lapse)
    if htmx.wants_partial():
        return htmx.add_vary(make_response(results))
    # The heading and the search form: the same for an audience, a language and a query
    # (the category tree changes only with a write, which empties every kept piece).
    search = fragments.fragment(
        ("offers.search", who, _locale(), request.script_root,
         tuple(request.args.items(multi=True))),
        lambda: render_template(
            "offers/_search.html", filters=filters, categories=categories,
            type_options=TYPE_OPTIONS, owner_options=OWNER_OPTIONS, sort_options=SORT_OPTIONS))
    return htmx.add_vary(make_response(render_template(
        "offers/index.html", search=search, results=results)))


@bp.route("/offers/mine")
@login_required
def mine() -> str:
    orgs = services.acting_choices(current_user)
    acting = ActingForm()
    acting.organisation.choices = choices(
        [("", _("myself")), *[(str(o.id), o.name) for o in orgs]]
    )
    current = _acting_for()
    acting.organisation.data = str(current.id) if current else ""  # type: ignore[attr-defined]
    acting.next.data = url_for("offers.mine")
    return render_template("offers/mine.html", groups=services.my_listings(current_user),
                           acting=acting, has_orgs=bool(orgs), current=current)


@bp.route("/offers/acting-for", methods=["POST"])
@login_required
def acting_for() -> Response:
    form = ActingForm()
    form.organisation.choices = choices(
        [("", ""), *[(str(o.id), o.name) for o in services.acting_choices(current_user)]]
    )
    target = safe_next(form.next.data, url_for("offers.mine"))
    if not form.validate_on_submit():
        flash(_("You are not an intermediary of this organisation."), "error")
        return see_other(target)
    value = form.organisation.data or ""
    org = services.set_acting_for(current_user, int(value) if value.isdigit() else None)
    if org is None:
        session.pop(ACTING_KEY, None)
        flash(_("You now act for yourself."), "success")
    else:
        session[ACTING_KEY] = org.id
        flash(_("You now act for %(name)s.", name=org.name), "success")
    return see_other(target)


@bp.route("/offers/<int:listing_id>", methods=["GET", "POST"])
def detail(listing_id: int) -> Response | str:
    """The listing; its answer form posts here."""
    try:
        listing = services.get_listing(listing_id, _viewer())
    except PermissionDenied:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        raise
    except NotFound:
        # Withdrawn while someone wrote an answer: say so, and give the text back.
        message = request.form.get("message", "") if request.method == "POST" else ""
        if message.strip() and current_user.is_authenticated:
            return render_template("offers/not_sent.html", message=message), 404
        raise
    form = RespondForm()
    if request.method == "POST":
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        done = submit(form,
                      lambda: services.respond(current_user, listing, form.message.data or ""),
                      success=url_for("offers.detail", listing_id=listing.id),
                      message=_("Your message is sent. The owner will contact you."))
        if done:
            return done
    return render_template("offers/detail.html", listing=listing, form=form,
                           locale=_locale(),
                           panels=features.panels(features.LISTING, listing, _viewer()))


# --- Creating and editing ---------------------------------------------------------------------


def _listing_form(obj: Listing | None = None) -> ListingForm:
    form = ListingForm(obj=obj)
    form.category_id.choices = category_choices(services.category_tree(), _locale(),
                                                _("no category"))
    if obj is not None and request.method == "GET":
        form.category_id.data = str(obj.category_id or "")
        form.price.data = (None if obj.price_amount is None
                           else obj.price_amount / 100)  # type: ignore[assignment]
        form.price_basis.data = obj.price_basis
    return form


@bp.route("/offers/new", methods=["GET", "POST"])
@login_required
def new() -> Response | str:
    form = _listing_form()
    acting = _acting_for()
    done = submit(
        form,
        lambda: services.create_listing(
            current_user, form.listing_data(get_settings().timezone),
            organisation=acting,  # type: ignore[arg-type]
            publish=not form.save_draft.data,
        ),
        success=lambda listing: url_for("offers.detail", listing_id=listing.id),
        message=_("Your listing is saved."),
    )
    return done or render_template("offers/form.html", form=form, listing=None, acting=acting)


@bp.route("/offers/<int:listing_id>/edit", methods=["GET", "POST"])
@login_required
def edit(listing_id: int) -> Response | str:
    listing = services.get_for_edit(listing_id, current_user)
    form = _listing_form(listing)

    def refused(error: DomainError) -> None:
        if isinstance(error, services.EditConflict):
            # Saving again now saves over the other edit: the user has been told.
            form.revision.data = str(listing.revision)

    done = submit(form,
                  lambda: services.update_listing(current_user, listing,
                                                  form.listing_data(get_settings().timezone),
                                                  revision=form.loaded_revision()),
                  refused=refused,
                  success=url_for("offers.detail", listing_id=listing.id),
                  message=_("Your listing is saved."))
    return done or render_template("offers/form.html", form=form, listing=listing, acting=None)


def _lifecycle(listing_id: int, action: str) -> Response:
    form = EmptyForm()
    listing = services.get_for_edit(listing_id, current_user)
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: getattr(services, action)(current_user, listing),
               propagate=(PermissionDenied, NotFound),
               back=safe_next(request.form.get("next"),
                              url_for("offers.detail", listing_id=listing_id)),
               message={"publish": _("The listing is published."),
                        "withdraw": _("The listing is withdrawn."),
                        "renew": _("The listing is renewed for a year.")}[action])


@bp.route("/offers/<int:listing_id>/publish", methods=["POST"])
@login_required
def publish(listing_id: int) -> Response:
    return _lifecycle(listing_id, "publish")


@bp.route("/offers/<int:listing_id>/withdraw", methods=["POST"])
@login_required
def withdraw(listing_id: int) -> Response:
    return _lifecycle(listing_id, "withdraw")


@bp.route("/offers/<int:listing_id>/renew", methods=["POST"])
@login_required
def renew(listing_id: int) -> Response:
    return _lifecycle(listing_id, "renew")


@bp.route("/offers/<int:listing_id>/renew/<token>", methods=["GET", "POST"])
@login_required
def renew_link(listing_id: int, token: str) -> Response | str:
    """The link of the expiry reminder: a GET shows what it does and a button (mail
    scanners that follow links renew nothing); the POST renews."""
    try:
        listing = services.listing_for_renewal(current_user, listing_id, token)
    except services.AlreadyRenewed as error:
        return render_template("offers/renew_link.html", listing=None, message=error.message,
                               listing_id=listing_id)
    form = EmptyForm()
    done = submit(form, lambda: services.renew_with_link(current_user, listing_id, token),
                  success=url_for("offers.detail", listing_id=listing_id),
                  message=_("Renewed: your listing runs for another year."))
    return done or render_template("offers/renew_link.html", listing=listing, form=form,
                                   message=None, listing_id=listing_id)


@bp.route("/offers/photos/<name>")
def photo(name: str) -> Response:
    """Photo files (lets_site/photos.py serves them): only who may see a listing with this
    photo gets it."""
    viewer = current_user if current_user.is_authenticated else None
    return photos.serve(name, lambda key: services.photo_audience(key, viewer))


# --- Categories (admins) --------------------------------------------------------------------


def _category_form(obj: object | None = None) -> CategoryForm:
    form = CategoryForm(obj=obj)
    tops = [c for c in services.categories() if c.parent_id is None and c is not obj]
    form.parent_id.choices = choices(
        [("", _("none: this is a main category")),
         *[(str(c.id), c.name(_locale())) for c in tops]]
    )
    if obj is not None and request.method == "GET":
        form.parent_id.data = str(getattr(obj, "parent_id", "") or "")
    return form


def _category_data(form: CategoryForm) -> services.CategoryData:
    parent = form.parent_id.data or ""
    return services.CategoryData(
        name_nl=form.name_nl.data or "", name_fr=form.name_fr.data or "",
        name_en=form.name_en.data or "",
        parent_id=int(parent) if parent.isdigit() else None,
        position=form.position.data,
        words=form.words.data or "",
    )


@bp.route("/admin/offers/categories", methods=["GET", "POST"])
@admin_required
def admin_categories() -> Response | str:
    form = _category_form()
    done = submit(form, lambda: services.create_category(current_user, _category_data(form)),
                  success=url_for("offers.admin_categories"),
                  message=_("The category is added."))
    return done or render_template("offers/admin_categories.html", form=form,
                           categories=services.categories(), locale=_locale())


@bp.route("/admin/offers/categories/<int:category_id>", methods=["GET", "POST"])
@admin_required
def admin_category(category_id: int) -> Response | str:
    category = services.get_category(category_id)
    form = _category_form(category)
    done = submit(form,
                  lambda: services.update_category(current_user, category,
                                                   _category_data(form)),
                  success=url_for("offers.admin_categories"),
                  message=_("The category is saved."))
    return done or render_template("offers/admin_category.html", form=form, category=category)


# Make the template filters about prices available.
@bp.app_template_filter("listing_price")
def listing_price(listing: Listing) -> str:
    """The price as the ledger writes amounts, with the unit in the reader's language:
    "0,50 uren per uur werk", "2 heures par objet"."""
    if listing.price_basis == PriceBasis.AGREE or listing.price_amount is None:
        return _("to agree")
    # Prices are kept in hundredths; a whole price in a group that counts whole units is
    # shown without decimals, like its ledger amounts.
    if ledger.get_settings().decimals == 0 and listing.price_amount % 100 == 0:
        amount = ledger.format_units(listing.price_amount // 100, 0)
    else:
        amount = ledger.format_units(listing.price_amount, 2)
    if listing.price_basis == PriceBasis.HOUR:
        return _("%(amount)s per hour of work", amount=amount)
    return _("%(amount)s per item", amount=amount)
