"""The search page, and the similar incidents beside the registration form."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_babel import gettext as _

from app.messages import N_
from app.search import models, service
from app.web import HANDLERS, database, paging
from app.web.security import roles_required

bp = Blueprint("search", __name__, url_prefix="/search")

READERS = (*HANDLERS, "leadership", "auditor")  # who reads every incident whole, work notes included
KIND_NAMES = {
    models.TITLE: N_("Title"),
    models.DESCRIPTION: N_("Description"),
    models.NOTES: N_("Handling notes"),
    models.COMMENT: N_("Comment on the incident"),
    models.WORK_NOTE: N_("Work note"),
    models.SOLUTION: N_("Solution"),
}


def init(app) -> None:
    app.jinja_env.globals["search_kind"] = lambda kind: _(KIND_NAMES[kind]) if kind in KIND_NAMES else kind


@bp.route("/")
@roles_required(*READERS)
def index():
    query = (request.args.get("q") or "").strip()
    with database().read() as session:
        # the TEXTS texts read are ranked once; a page shows PER_PAGE incidents of them
        wanted = paging.wanted()
        offset = (wanted - 1) * paging.PER_PAGE
        found = service.search_page(session, query, paging.PER_PAGE, offset) if query else service.Found([], 0, False)
        page = paging.Page(1, found.total).at(wanted)
        if found.total and page.number != wanted:  # past the last page
            return redirect(page.url(page.number))
    return render_template(
        "search/index.html", query=query, found=found, page=page, texts=service.TEXTS, terms=service.terms_of(query)
    )


@bp.route("/similar")
@roles_required("service_desk")
def similar():
    """A fragment for the registration page: the incidents most like what the desk has typed so far."""
    typed = " ".join(request.args.get(name, "") for name in ("title", "description")).strip()
    with database().read() as session:
        hits = service.similar(session, typed)
    return render_template("search/_similar.html", hits=hits, typed=typed)
