"""The channels that deliver by HTTP: WeCom and DingTalk group robots (mentioning the person), an SMS
gateway, and a generic outgoing webhook. Each is set by environment variables (docs/notifications.md).

Signatures:
- DingTalk signs as DingTalk documents its robots: `timestamp` (ms) and
  `sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))` in the query string.
- WeCom robots do not sign; the key in the URL is the secret.
- The SMS gateway and the generic webhook get JSON signed with HMAC-SHA256 over
  f"{timestamp}.{body}" in `X-Signature: sha256=<hex>`, with `X-Timestamp` and `X-Idempotency-Key`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.notifications.channels import DeliveryError, Outgoing


def sign_body(secret: str, timestamp: str, body: bytes) -> str:
    """The generic webhook's and SMS gateway's signature (receivers compute the same)."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def dingtalk_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def _post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> bytes:
    headers = {"Content-Type": "application/json; charset=utf-8", **headers}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # the administrator's URL, not a user's
            return response.read()
    except urllib.error.HTTPError as error:
        permanent = 400 <= error.code < 500 and error.code not in (408, 429)
        raise DeliveryError(f"HTTP {error.code} from {_where(url)}", permanent=permanent) from None
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"{_where(url)}: {getattr(error, 'reason', error)}") from None


def _where(url: str) -> str:
    """A URL without its query (where tokens live), for messages and the administrator's page."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _robot_answer(raw: bytes, url: str) -> None:
    """WeCom and DingTalk answer 200 with {"errcode": 0} on success and another code otherwise."""
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise DeliveryError(f"{_where(url)} answered something that is not JSON") from None
    code = answer.get("errcode", 0)
    if code != 0:
        raise DeliveryError(f"{_where(url)}: errcode {code} {answer.get('errmsg', '')}".strip())


def _text(outgoing: Outgoing) -> str:
    return f"{outgoing.message.subject}\n\n{outgoing.message.body}"


@dataclass
class WeComRobot:
    url: str  # https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
    timeout: float = 10
    name: str = "wecom"

    def describe(self) -> str:
        return f"WeCom robot {_where(self.url)}"

    def send(self, outgoing: Outgoing) -> None:
        payload = {"msgtype": "text", "text": {"content": _text(outgoing), "mentioned_list": [outgoing.address]}}
        _robot_answer(_post(self.url, _json(payload), {}, self.timeout), self.url)


@dataclass
class DingTalkRobot:
    url: str  # https://oapi.dingtalk.com/robot/send?access_token=…
    secret: str = ""  # the robot's 加签 secret (SEC…); empty: the robot does not check signatures
    timeout: float = 10
    name: str = "dingtalk"

    def describe(self) -> str:
        return f"DingTalk robot {_where(self.url)}" + (", signed" if self.secret else "")

    def send(self, outgoing: Outgoing) -> None:
        url = self.url
        if self.secret:
            timestamp = str(int(time.time() * 1000))
            query = urllib.parse.urlencode({"timestamp": timestamp, "sign": dingtalk_sign(self.secret, timestamp)})
            url += ("&" if "?" in url else "?") + query
        content = _text(outgoing) + f"\n@{outgoing.address}"
        payload = {"msgtype": "text", "text": {"content": content}, "at": {"atUserIds": [outgoing.address]}}
        _robot_answer(_post(url, _json(payload), {}, self.timeout), self.url)


@dataclass
class SignedJson:
    """The SMS gateway (one message to one mobile number) and the generic webhook (every event)."""

    url: str
    secret: str
    name: str
    timeout: float = 10

    def describe(self) -> str:
        kind = "SMS gateway" if self.name == "sms" else "webhook"
        return f"{kind} {_where(self.url)}, " + ("HMAC-SHA256 signed" if self.secret else "unsigned")

    def send(self, outgoing: Outgoing) -> None:
        message = outgoing.message
        if self.name == "sms":  # short: the subject and the link
            payload: dict[str, Any] = {"to": outgoing.address, "text": f"{message.subject} {message.link}"}
        else:
            payload = {"event": outgoing.event, "kind": outgoing.kind, "subject": message.subject,
                       "text": message.body, "link": message.link, "data": dict(outgoing.params)}  # fmt: skip
        body = _json(payload)
        timestamp = str(int(time.time()))
        headers = {"X-Timestamp": timestamp, "X-Idempotency-Key": outgoing.key}
        if self.secret:
            headers["X-Signature"] = sign_body(self.secret, timestamp, body)
        _post(self.url, body, headers, self.timeout)


def from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    timeout = float(config["HTTP_TIMEOUT"])
    channels: dict[str, Any] = {}
    if config["SMS_GATEWAY_URL"]:
        channels["sms"] = SignedJson(config["SMS_GATEWAY_URL"], config["SMS_GATEWAY_SECRET"], "sms", timeout)
    if config["WECOM_WEBHOOK_URL"]:
        channels["wecom"] = WeComRobot(config["WECOM_WEBHOOK_URL"], timeout)
    if config["DINGTALK_WEBHOOK_URL"]:
        channels["dingtalk"] = DingTalkRobot(config["DINGTALK_WEBHOOK_URL"], config["DINGTALK_SECRET"], timeout)
    if config["WEBHOOK_URL"]:
        channels["webhook"] = SignedJson(config["WEBHOOK_URL"], config["WEBHOOK_SECRET"], "webhook", timeout)
    return channels
