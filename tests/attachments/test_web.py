"""Uploading through the pages and reading back: what the browser is told, and who gets what."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from app.attachments import service as files
from app.attachments.models import Attachment
from tests.driver import registration

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def upload(client, incident_id, name, data, **fields):
    return client.post(f"/incidents/{incident_id}/attachments", {"file": (io.BytesIO(data), name), **fields},
                       content_type="multipart/form-data")  # fmt: skip


def ids(db) -> dict[str, int]:
    with db.read() as session:
        return {row.filename: row.id for row in session.scalars(select(Attachment))}


def test_upload_list_and_download_with_safe_headers(desk, db, as_role):
    incident_id = desk.register(registration())
    handler = as_role("first_line")
    assert upload(handler, incident_id, "截图.png", PNG).status_code == 302
    assert upload(handler, incident_id, "日志.html", "ERROR 超时\n".encode()).status_code == 302
    page = handler.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "截图.png" in page and "日志.html.txt" in page and 'data-testid="attach-form"' in page
    found = ids(db)
    image = handler.http.get(f"/attachments/{found['截图.png']}")
    assert image.status_code == 200 and image.data == PNG
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline;")
    assert "filename*=UTF-8''%E6%88%AA%E5%9B%BE.png" in image.headers["Content-Disposition"]
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    text = handler.http.get(f"/attachments/{found['日志.html.txt']}")
    assert text.headers["Content-Type"].startswith("text/plain")
    assert text.headers["Content-Disposition"].startswith("attachment;")
    downloads = [data["filename"] for kind, data in desk.audit(incident_id) if kind == "attachment_downloaded"]
    assert downloads == ["截图.png", "日志.html.txt"]


def test_markup_is_refused_with_a_message(desk, db, as_role):
    incident_id = desk.register(registration())
    handler = as_role("first_line")
    response = upload(handler, incident_id, "x.png", b"<svg onload='alert(1)'></svg>")
    page = handler.get(response.location).get_data(as_text=True)
    assert "不接受这种文件" in page
    assert ids(db) == {}


def test_too_large_is_a_clear_413_and_nothing_is_kept(app, desk, db, as_role):
    app.config["ATTACHMENT_MAX_FILE_MB"] = 0.01  # about 10 KB
    incident_id = desk.register(registration())
    handler = as_role("first_line")
    response = upload(handler, incident_id, "big.log", b"a" * 200_000)
    assert response.status_code == 413
    assert "0" in response.get_data(as_text=True) and "MB" in response.get_data(as_text=True)
    response = handler.post(f"/incidents/{incident_id}/comments",
                            {"text": "大文件", "file": (io.BytesIO(b"a" * 200_000), "big.log")},
                            content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 413
    assert ids(db) == {} and not [k for k, _ in desk.audit(incident_id) if k == "comment_added"]


def test_the_requester_never_reaches_an_internal_file(desk, service, actors, db, as_role):
    incident_id = desk.register(registration())
    files.attach(service, actors["first_line"], incident_id, files.Upload("内部诊断.log", b"x\n"), files.Limits())
    requester = as_role("requester")
    upload(requester, incident_id, "我的截图.png", PNG)
    found = ids(db)
    assert requester.http.get(f"/attachments/{found['内部诊断.log']}").status_code == 404
    assert requester.http.get(f"/attachments/{found['我的截图.png']}").data == PNG
    page = requester.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "我的截图.png" in page and "内部诊断.log" not in page
    assert "first_line user" not in page
    handler_page = as_role("service_desk").get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert re.search(r"内部诊断\.log.*?内部", handler_page, re.S) and "我的截图.png" in handler_page
    refused = [d for k, d in desk.audit(incident_id) if k == "attachment_downloaded"]
    assert [d["filename"] for d in refused] == ["我的截图.png"]  # a refused download reads nothing
