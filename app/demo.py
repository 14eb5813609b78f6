"""Demo data: an account per role and a week of incidents in every state of the process (and a
pair of repeats for the repeat-incident analysis).

The history is replayed through the real incident service with the clock moved back (freezegun),
so deadlines, warnings, breaches and closures carry believable times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from freezegun import freeze_time
from sqlalchemy import func, select

from app import migrate
from app.audit import SYSTEM, Actor
from app.comments import service as comments
from app.comments.models import WORK_NOTE
from app.incidents.projection import ACTIVE_STATUSES
from app.incidents.service import IncidentService
from app.models import Incident, OpenTask, ProblemTicket, User
from app.problems.service import ProblemService
from app.process import versions
from app.users import actor_of, create_user

demo_cli = AppGroup("demo", help="Demo accounts and incidents.")

DEMO_PASSWORD = "demo1234"

ACCOUNTS = (  # username, display name, roles
    ("zhangwei", "张伟（营业厅）", ["requester"]),
    ("lina", "李娜（客户经理）", ["requester"]),
    ("wangfang", "王芳（服务台）", ["service_desk"]),
    ("liuyang", "刘洋（一线运维）", ["first_line"]),
    ("chenjie", "陈杰（二线·开发组）", ["second_line_dev"]),
    ("yangmin", "杨敏（二线·测试组）", ["second_line_test"]),
    ("zhaolei", "赵磊（二线·信息系统部）", ["second_line_is"]),
    ("sunli", "孙丽（事件经理）", ["incident_manager"]),
    ("zhouqiang", "周强（总监）", ["leadership"]),
    ("wujing", "吴静（审计）", ["auditor"]),
    ("zhengtao", "郑涛（流程负责人）", ["process_owner"]),
    ("admin", "系统管理员", ["admin"]),
)


@demo_cli.command("load")
def load_command() -> None:
    """Create the database if needed, then the demo accounts and incidents (once)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], current_app.config["AUDIT_HMAC_KEY"].encode())
    db = current_app.extensions["db"]
    with db.transaction() as session:
        versions.publish_bundled_if_none(session, SYSTEM)
        created = not session.scalar(select(func.count()).select_from(User))
        if created:
            for username, name, roles in ACCOUNTS:
                hash_method = current_app.config["PASSWORD_HASH_METHOD"]
                user = create_user(session, username, DEMO_PASSWORD, roles, name, hash_method=hash_method)
                user.email = f"{username}@demo.example"  # the mail sink shows what they would have been sent
    with db.read() as session:
        has_incidents = bool(session.scalar(select(func.count()).select_from(Incident)))
        people = {user.username: actor_of(user) for user in session.scalars(select(User))}
    if not has_incidents and all(username in people for username, _, _ in ACCOUNTS):
        count = load_incidents(current_app.extensions["incidents"], people, datetime.now(UTC))
        click.echo(f"{count} demo incidents created")
    click.echo("demo accounts" + ("" if created else " (already there)") + f" — password for all: {DEMO_PASSWORD}")
    for username, name, roles in ACCOUNTS:
        click.echo(f"  {username:<10} {', '.join(roles):<18} {name}")


@dataclass
class _Story:
    """Replays one incident's history from `days_ago`, one step per call."""

    service: IncidentService
    people: dict[str, Actor]
    clock: Any  # freezegun's frozen clock
    incident_id: int | None = None
    fields: dict | None = None  # what a portal incident was raised with

    def register(
        self, title, type_, facts=None, *, requester="zhangwei", source="hotline", system="计费", solved=None,
        registrar="wangfang",
    ):  # fmt: skip
        data = {
            "incident": {"title": title, "description": title + "，详见工单。", "source": source, "system": system},
            "facts": {"type": type_, **(facts or {})},
            "on_spot": {"solved": solved is not None, **({"kind": "resolved", "solution": solved} if solved else {})},
        }
        if type_ == "fault":
            data["facts"].setdefault("fault_category", "application")
            data["facts"].setdefault("core_business_impact", "no")
        requester_id = self.people[requester].user_id
        self.incident_id = self.service.start(
            self.people[registrar], incident=data["incident"], requester_id=requester_id, registration=data
        )
        return self

    def portal(self, title: str, requester: str = "zhangwei") -> _Story:
        """The requester raises it in the portal; it waits for the service desk's registration."""
        person = self.people[requester]
        fields = {"title": title, "description": title + "，请尽快处理。", "source": "portal"}
        self.incident_id = self.service.start(person, requester_id=person.user_id, incident=fields)
        self.fields = fields
        return self

    def registered(self, hours: float, type_: str, facts: dict | None = None) -> _Story:
        """The service desk registers a portal incident; its deadline runs from the submission."""
        facts = {"type": type_, **(facts or {})}
        if type_ == "fault":
            facts = {"fault_category": "application", "core_business_impact": "no", **facts}
        registration = {"incident": self.fields, "facts": facts, "on_spot": {"solved": False}}
        return self.then(hours, "wangfang", "register_incident", registration)

    def then(self, hours: float, who: str, spec_id: str, data: dict) -> _Story:
        self._wait(hours)
        self.service.complete_task(self.people[who], self.incident_id, self._task(spec_id), data)
        return self

    def lead(self, hours: float, who: str, action: str, text: str) -> _Story:
        """Leadership: demand urgent handling, or post a coordination note (a work note)."""
        self._wait(hours)
        if action == "demand":
            self.service.demand_urgent_handling(self.people[who], self.incident_id, text)
        else:
            comments.add(self.service, self.people[who], self.incident_id, WORK_NOTE, text)
        return self

    def change_done(self, hours: float, who: str, note: str) -> _Story:
        self._wait(hours)
        self.service.report_change_done(self.people[who], self.incident_id, note)
        return self

    def facts(self, hours: float, who: str, note: str, **facts) -> _Story:
        self._wait(hours)
        self.service.add_facts(self.people[who], self.incident_id, {"note": note, **facts})
        return self

    def _wait(self, hours: float) -> None:
        """Let time pass, firing each timer when it falls due, as the timer worker would have."""
        until = datetime.now(UTC) + timedelta(hours=hours)
        while (due := self._next_due()) is not None and due <= until:
            self.clock.move_to(max(due + timedelta(seconds=1), datetime.now(UTC)))
            self.service.fire_due_timers()
        self.clock.move_to(until)

    def _next_due(self) -> datetime | None:
        with self.service.db.read() as session:
            query = select(func.min(Incident.next_timer_due)).where(Incident.status.in_(ACTIVE_STATUSES))
            return session.scalar(query)

    def _task(self, spec_id: str) -> str:
        with self.service.db.read() as session:
            return session.scalar(
                select(OpenTask.id).where(OpenTask.incident_id == self.incident_id, OpenTask.spec_id == spec_id)
            )


def _pass(stage, group=None):
    return {"handling": {"outcome": "pass_on", "next_stage": stage, "group": group, "notes": "本环节无法解决，移交"}}


def _solve(text, kind="resolved"):
    return {"handling": {"outcome": "resolved", "solution_kind": kind, "solution": text, "notes": "已定位原因"}}


CONFIRM = {"confirmation": {"resolved": True, "customer_confirmed": True}}
CLOSE = {"closure": {"code": "resolved", "follow_up": "none", "customer_confirmed": True}}


def _follow_problem(service: IncidentService, people: dict[str, Actor]) -> None:
    """The incident manager takes up the problem ticket raised from a workaround: an owner, then a known error."""
    problems = ProblemService(service.db)
    with service.db.read() as session:
        ticket_id = session.scalar(select(ProblemTicket.id).where(ProblemTicket.title == "欠费清单自动导出失败"))
    owner = people["chenjie"].user_id
    problems.update(
        people["sunli"], ticket_id, status="investigating", owner_id=owner, note="交开发组定位", workaround=""
    )
    problems.update(people["sunli"], ticket_id, status="known_error", owner_id=owner, note="",
                    workaround="导出失败时由服务台手工导出清单")  # fmt: skip


def load_incidents(service: IncidentService, people: dict[str, Actor], now: datetime) -> int:
    def story(days_ago: float) -> _Story:
        frozen.move_to(now - timedelta(days=days_ago))
        return _Story(service, people, frozen)

    # the stories read best one step per line
    # fmt: off
    with freeze_time(now) as frozen:
        story(6).register("营业厅咨询新套餐计费规则", "consultation", solved="已电话解释套餐计费规则")
        (story(5).register("部分用户缴费后余额未更新", "fault", {"complaints": 35, "non_core_business_affected": True})
            .then(0.5, "wangfang", "initial_support", _pass("first_line"))
            .then(3, "liuyang", "first_line_handling", _solve("重启余额同步进程，补推消息"))
            .then(2, "zhangwei", "confirm_resolution", CONFIRM).then(1, "wangfang", "close_incident", CLOSE))
        (story(5).register("月账出账延迟", "fault", {"billing_delay_hours": 3}, system="出账")
            .then(1, "wangfang", "initial_support", _pass("first_line"))
            .then(4, "liuyang", "first_line_handling", _pass("second_line", "development"))
            .then(25, "chenjie", "second_line_handling", _solve("修复出账批处理的分区锁问题"))
            .then(3, "zhangwei", "confirm_resolution", CONFIRM).then(1, "wangfang", "close_incident", CLOSE))
        (story(4).register("批量提取欠费用户清单", "request", {"customer_demand": True}, requester="lina")
            .then(2, "wangfang", "initial_support", _solve("手工导出清单，自动导出功能待修复", "workaround"))
            .then(3, "lina", "confirm_resolution", CONFIRM)
            .then(1, "wangfang", "close_incident",
                  {"closure": {"code": "workaround", "follow_up": "problem", "follow_up_title": "欠费清单自动导出失败"}}))
        (story(3.5).register("余额查询响应慢", "fault", {"complaints": 15}, system="余额查询")
            .then(0.5, "wangfang", "initial_support", _pass("first_line"))
            .then(2, "liuyang", "first_line_handling", _solve("扩容余额查询缓存"))
            .then(1, "zhangwei", "confirm_resolution", CONFIRM).then(1, "wangfang", "close_incident", CLOSE))
        (story(3).register("营业厅投诉工单处理过慢", "complaint", {"complaints": 3})
            .then(1, "wangfang", "initial_support", _solve("加派人手处理积压工单", "workaround"))
            .then(5, "zhangwei", "confirm_resolution", CONFIRM)
            .then(1, "wangfang", "close_incident",
                  {"closure": {"code": "workaround", "follow_up": "incident", "follow_up_title": "工单派单规则优化"}}))
        (story(2.5).register("充值接口偶发超时", "fault", {"complaints": 20}, system="充值")
            .then(1, "wangfang", "initial_support", _pass("second_line", "development"))
            .then(6, "chenjie", "second_line_handling",
                  {"handling": {"outcome": "change", "change_kind": "defect", "change_reference": "BUG-2026-118"}}))
        # the requester never answered: 3 working days later the service desk calls, reaches nobody, closes
        (story(6.5).register("发票抬头无法修改", "request", {"customer_demand": True}, requester="lina")
            .then(1, "wangfang", "initial_support", _solve("后台修改发票抬头"))
            .then(5 * 24 + 1, "wangfang", "follow_up_confirmation",
                  {"confirmation": {"answer": "no_reply", "comment": "两次电话均无人接听"}}))
        # transferred to the requirement process, back when the change was done, then solved and closed
        (story(4.5).register("账单明细缺少套餐外流量", "fault", {"complaints": 8}, system="出账")
            .then(1, "wangfang", "initial_support", _pass("second_line", "development"))
            .then(3, "chenjie", "second_line_handling",
                  {"handling": {"outcome": "change", "change_kind": "requirement", "change_reference": "REQ-2026-031"}})
            .change_done(40, "chenjie", "REQ-2026-031 已上线")
            .then(2, "chenjie", "second_line_handling", _solve("按新账单模板重出明细"))
            .then(3, "zhangwei", "confirm_resolution", CONFIRM).then(1, "wangfang", "close_incident", CLOSE))
        (story(2).register("资料同步失败导致开户报错", "fault", {"complaints": 12}, system="业务受理")
            .then(1, "wangfang", "initial_support", _pass("first_line"))
            .then(5, "liuyang", "first_line_handling", _solve("修复资料同步配置"))
            .then(8, "zhangwei", "confirm_resolution", {"confirmation": {"resolved": False, "comment": "仍有新开户报错"}})
            .then(2, "liuyang", "first_line_handling", _solve("清理重复资料记录并重新同步")))
        (story(1.3).register("短信提醒重复发送", "fault", {"complaints": 25, "non_core_business_affected": True})
            .then(1, "wangfang", "initial_support", _pass("first_line"))
            .then(6, "liuyang", "first_line_handling", _pass("second_line", "test")))
        (story(0.9).register("余额查询响应缓慢", "fault", {"complaints": 22}, system="余额查询")
            .then(0.5, "wangfang", "initial_support", _pass("first_line")))
        (story(0.6).register("报表数据与账务不一致", "request", {"customer_demand": True}, requester="lina")
            .then(2, "wangfang", "initial_support", _pass("second_line", "information_systems"))
            .then(4, "zhaolei", "second_line_handling", _solve("修正报表口径并重新生成")))
        (story(0.1).register("全省计费话单处理中断", "fault", {"core_interruption_minutes": 35, "core_business_impact": "yes"})
            .then(0.2, "sunli", "notify_fault", {"notification": {
                "channels": ["sms", "email"], "recipients": "省公司值班、总部网管", "content": "计费话单处理中断，影响全省"}})
            .then(0.1, "sunli", "coordinate_emergency",
                  {"handling": {"outcome": "announce", "announcement": "计费话单处理中断，正在抢修，预计一小时内恢复"}}))
        # yellow + E3 (VP complaint) + a late notification (E1): each from yellow, so orange, not red;
        # many complaints expected: urgency high, an emergency
        story(0.5).register("话费查询接口大量报错", "fault",
                            {"complaints": 60, "vp_complaint": True, "complaint_surge_expected": True}, system="查询")
        # resolved before the fault notification was made: it stays with the manager, who waives it with a reason
        (story(0.7).register("营业厅缴费页面短暂报错", "fault", {"affected_users": 60_000}, system="缴费")
            .then(0.1, "wangfang", "initial_support", _solve("重启缴费前置服务"))
            .then(0.1, "sunli", "notify_fault", {"notification": {
                "outcome": "waived", "waiver_reason": "故障 10 分钟内恢复，营业厅已知悉，无需对外通报"}}))
        # raised in the portal, registered 40 minutes later (past the 15-minute target): the deadline
        # runs from the submission, and the reports count the wait as time to register
        (story(1.1).portal("自助缴费后未收到短信提醒", requester="lina")
            .registered(40 / 60, "fault", {"complaints": 2})
            .then(0.3, "wangfang", "initial_support", _pass("first_line")))
        # registered by first line; leadership demands urgent handling and adds a coordination note
        (story(0.4).register("营业厅终端批量掉线", "fault", {"affected_users": 2000}, system="营业厅", registrar="liuyang")
            .lead(0.2, "zhouqiang", "demand", "多个地市营业厅无法受理业务，请立即组织处理")
            .lead(0.1, "zhouqiang", "note", "已请网络部同步排查营业厅专线"))
        # core business impact not sure: medium, listed in the incident manager's console to confirm
        (story(0.3).register("部分地市缴费到账延迟", "fault", {"affected_users": 3000, "core_business_impact": "unknown"},
                             system="充值")
            .then(0.1, "wangfang", "initial_support", _pass("first_line")))
        story(0.08).register("业务受理界面部分按钮无响应", "fault", {"complaints": 60, "affected_users": 60_000})
        (story(0.01).register("营业厅无法打印发票", "fault", {"complaints": 50}, system="业务受理"))
        frozen.move_to(now - timedelta(minutes=5))
        service.start(people["zhangwei"], requester_id=people["zhangwei"].user_id,
                      incident={"title": "手机营业厅缴费页面报错", "description": "缴费时提示系统繁忙", "source": "portal"})
    # fmt: on
    service.fire_due_timers()  # what fell due between the replayed past and now
    _follow_problem(service, people)
    with service.db.read() as session:
        return session.scalar(select(func.count()).select_from(Incident))
