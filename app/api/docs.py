"""The contract: /api/v1/openapi.json (OpenAPI 3.1, generated) and its browsable page /api/v1/docs
(Swagger UI, vendored under app/static/vendor/swagger-ui)."""

from __future__ import annotations

from flask import jsonify, render_template

from app.api.blueprint import bp, openapi_document


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/docs")
def docs():
    return render_template("api/docs.html")
