"""Real local HTTP servers that receive notifications and check them the way each service does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A server on a loopback port. `check(path, query, headers, body)` returns (status, answer) the way
    the real service answers; accepted messages are kept in `received` (path, query, headers, JSON)."""

    def __init__(self, check):
        self.received: list[tuple[str, dict, dict, dict]] = []
        self.rejected: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — the http.server API
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, answer = check(parts.path, query, dict(self.headers), body)
                if status == 200 and answer.get("errcode", 0) == 0:
                    receiver.received.append((parts.path, query, dict(self.headers), json.loads(body)))
                else:
                    receiver.rejected.append(json.dumps(answer, ensure_ascii=False))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def dingtalk(token: str, secret: str):
    """DingTalk's robot: the access token, then timestamp within an hour and its HMAC-SHA256 sign."""

    def check(path, query, headers, body):
        if path != "/robot/send" or query.get("access_token") != token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        timestamp = query.get("timestamp", "0")
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        if abs(time.time() * 1000 - int(timestamp)) > 3_600_000 or query.get("sign") != expected:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return check


def wecom(key: str):
    """WeCom's group robot: the key in the URL is all it checks."""

    def check(path, query, headers, body):
        if path != "/cgi-bin/webhook/send" or query.get("key") != key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return check


def signed_json(secret: str):
    """The generic webhook and SMS gateway: X-Signature = sha256=HMAC(secret, timestamp + "." + body)."""

    def check(path, query, headers, body):
        timestamp = headers.get("X-Timestamp", "")
        expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("X-Signature", ""), expected):
            return 401, {"error": "bad signature"}
        return 200, {"ok": True}

    return check


def down():
    """A service that is failing."""

    def check(path, query, headers, body):
        return 503, {"error": "unavailable"}

    return check
