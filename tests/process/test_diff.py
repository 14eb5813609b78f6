"""What changes between two versions of the diagram: each edit a process owner makes shows as exactly the
elements it touches, with what changed in words; moving shapes around only flags the layout."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lxml import etree

from app.engine.model import BPMN_NS, NS, SPIFF_NS
from app.process.diff import DiagramDiff, ElementChange, diff
from app.process.problems import ModelError
from tests.engine.bpmn_edit import BPMN_FILE, DI, bpmn, find

NO_CHANGE = DiagramDiff(added=[], removed=[], changed=[], layout_changed=False)


def shipped() -> str:
    return BPMN_FILE.read_text(encoding="utf-8")


def edited(mutate: Callable[[etree._Element], object], xml: str | None = None) -> str:
    root = etree.fromstring((xml or shipped()).encode())
    mutate(root)
    return etree.tostring(root, encoding="unicode")


def shape_of(root: etree._Element, element_id: str) -> etree._Element:
    drawn = "//bpmndi:BPMNShape[@bpmnElement=$id] | //bpmndi:BPMNEdge[@bpmnElement=$id]"
    (shape,) = root.xpath(drawn, id=element_id, namespaces=DI)
    return shape


def changed(element_id: str, kind: str, name: str, *details: str, name_after: str | None = None) -> ElementChange:
    return ElementChange(element_id, kind, name, name if name_after is None else name_after, details)


# --- edits ------------------------------------------------------------------------------------------------------


def insert_notify_customer(root: etree._Element) -> None:
    """A task between recording the on-spot closure and its end event, drawn, in the service desk's lane."""
    process = root.find("bpmn:process", NS)
    find(root, "f_onspot_end").set("targetRef", "notify_customer")
    task = bpmn("task", process, id="notify_customer", name="通知客户")
    bpmn("incoming", task, "f_onspot_end")
    bpmn("outgoing", task, "f_notify_end")
    end = find(root, "end_closed_on_spot")
    end.find("bpmn:incoming", NS).text = "f_notify_end"
    bpmn("sequenceFlow", process, id="f_notify_end", sourceRef="notify_customer", targetRef="end_closed_on_spot")
    lane_ref = bpmn("flowNodeRef", find(root, "lane_service_desk"), "notify_customer")
    find(root, "lane_service_desk").find("bpmn:flowNodeRef", NS).addprevious(lane_ref)
    plane = root.find(".//bpmndi:BPMNPlane", DI)
    shape = etree.SubElement(
        plane, f"{{{DI['bpmndi']}}}BPMNShape", id="notify_customer_di", bpmnElement="notify_customer"
    )
    etree.SubElement(shape, f"{{{DI['dc']}}}Bounds", x="720", y="330", width="100", height="80")
    edge = etree.SubElement(plane, f"{{{DI['bpmndi']}}}BPMNEdge", id="f_notify_end_di", bpmnElement="f_notify_end")
    for x, y in (("770", "330"), ("770", "308")):
        etree.SubElement(edge, f"{{{DI['di']}}}waypoint", x=x, y=y)


def drop_on_spot_closure(root: etree._Element) -> None:
    """The on-spot solution goes straight to the end event: the closure task and one flow are gone."""
    for element_id in ("record_on_spot_closure", "f_onspot_end"):
        find(root, element_id).getparent().remove(find(root, element_id))
        shape = shape_of(root, element_id)
        shape.getparent().remove(shape)
    (ref,) = root.xpath("//bpmn:flowNodeRef[text()='record_on_spot_closure']", namespaces=NS)
    ref.getparent().remove(ref)
    find(root, "f_onspot_close").set("targetRef", "end_closed_on_spot")
    find(root, "end_closed_on_spot").find("bpmn:incoming", NS).text = "f_onspot_close"


def move_to_lane(element_id: str, lane_id: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        (ref,) = root.xpath("//bpmn:flowNodeRef[text()=$id]", id=element_id, namespaces=NS)
        ref.getparent().remove(ref)
        bpmn("flowNodeRef", find(root, lane_id), element_id)

    return mutate


def move_shape(root: etree._Element) -> None:
    """Move the register task 20 to the right, with the ends of its flows and the label of nothing else."""
    bounds = shape_of(root, "register_incident").find("dc:Bounds", DI)
    bounds.set("x", "210")
    shape_of(root, "f_start_register").findall("di:waypoint", DI)[1].set("x", "260")
    shape_of(root, "f_register_classify").findall("di:waypoint", DI)[0].set("x", "310")


def set_text(path: str, text: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        (element,) = root.xpath(path, namespaces=NS)
        element.text = text

    return mutate


def set_attribute(element_id: str, name: str, value: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        find(root, element_id).set(name, value)

    return mutate


def parameter(task_id: str, parameter_id: str, value: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        (element,) = find(root, task_id).xpath(".//spiffworkflow:parameter[@id=$id]", id=parameter_id, namespaces=NS)
        element.set("value", value)

    return mutate


def form_property(task_id: str, name: str, value: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        (prop,) = find(root, task_id).xpath(".//spiffworkflow:property[@name=$name]", name=name, namespaces=NS)
        prop.set("value", value)

    return mutate


def retype(element_id: str, tag: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        find(root, element_id).tag = f"{{{BPMN_NS}}}{tag}"

    return mutate


def add_parameter_to_classify(root: etree._Element) -> None:
    parameters = find(root, "classify_incident").find(".//spiffworkflow:parameters", NS)
    etree.SubElement(parameters, f"{{{SPIFF_NS}}}parameter", id="channel", type="any", value='"phone"')


# --- tests -----------------------------------------------------------------------------------------------------


def test_identical_versions_have_no_differences():
    assert diff(shipped(), shipped()) == NO_CHANGE
    assert NO_CHANGE.unchanged
    assert diff(shipped().encode(), edited(lambda root: None)) == NO_CHANGE  # bytes, re-serialized: the same


def test_a_relabelled_task_is_one_change_with_its_name():
    relabelled = edited(set_attribute("initial_support", "name", "初始支持（运维）"))
    assert diff(shipped(), relabelled) == DiagramDiff(
        added=[],
        removed=[],
        changed=[
            ElementChange(
                "initial_support", "userTask", "初始支持", "初始支持（运维）", ("name: 初始支持 → 初始支持（运维）",)
            )
        ],
        layout_changed=False,
    )


def test_relabelling_the_task_and_its_branch_changes_both_in_id_order():
    relabelled = shipped().replace('name="初始支持"', 'name="初始支持（运维）"')
    assert diff(shipped(), relabelled).changed == [
        changed(
            "f_route_initial",
            "sequenceFlow",
            "初始支持",
            "name: 初始支持 → 初始支持（运维）",
            name_after="初始支持（运维）",
        ),
        changed(
            "initial_support",
            "userTask",
            "初始支持",
            "name: 初始支持 → 初始支持（运维）",
            name_after="初始支持（运维）",
        ),
    ]


def test_an_inserted_task_and_its_flow_are_added_and_its_neighbours_changed():
    result = diff(shipped(), edited(insert_notify_customer))
    assert result.added == [
        ElementChange("f_notify_end", "sequenceFlow", None, ""),
        ElementChange("notify_customer", "task", None, "通知客户"),
    ]
    assert result.removed == []
    assert result.changed == [
        changed(
            "end_closed_on_spot",
            "endEvent",
            "现场解决并关闭",
            "incoming from: record_on_spot_closure → notify_customer",
        ),
        changed("f_onspot_end", "sequenceFlow", "", "target: end_closed_on_spot → notify_customer"),
        changed(
            "record_on_spot_closure", "serviceTask", "记录关闭", "outgoing to: end_closed_on_spot → notify_customer"
        ),
    ]
    assert result.layout_changed is False  # the new shapes are new, nothing that was there moved


def test_a_removed_task_and_flow_are_removed_and_its_neighbours_changed():
    result = diff(shipped(), edited(drop_on_spot_closure))
    assert result.added == []
    assert result.removed == [
        ElementChange("f_onspot_end", "sequenceFlow", "", None),
        ElementChange("record_on_spot_closure", "serviceTask", "记录关闭", None),
    ]
    assert result.changed == [
        changed(
            "end_closed_on_spot",
            "endEvent",
            "现场解决并关闭",
            "incoming from: record_on_spot_closure → record_on_spot_solution",
        ),
        changed("f_onspot_close", "sequenceFlow", "", "target: record_on_spot_closure → end_closed_on_spot"),
        changed(
            "record_on_spot_solution",
            "serviceTask",
            "记录现场解决方案",
            "outgoing to: record_on_spot_closure → end_closed_on_spot",
        ),
    ]
    assert result.layout_changed is False


def test_going_back_reverses_added_and_removed():
    forward, back = diff(shipped(), edited(insert_notify_customer)), diff(edited(insert_notify_customer), shipped())
    assert [(c.element_id, c.kind, c.name_after) for c in forward.added] == [
        (c.element_id, c.kind, c.name_before) for c in back.removed
    ]
    assert [c.element_id for c in back.changed] == [c.element_id for c in forward.changed]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            set_text("//bpmn:sequenceFlow[@id='f_onspot_yes']/bpmn:conditionExpression", 'on_spot["solved"] is True'),
            changed("f_onspot_yes", "sequenceFlow", "是", 'condition: on_spot["solved"] → on_spot["solved"] is True'),
            id="gateway-condition",
        ),
        pytest.param(
            set_text("//bpmn:boundaryEvent[@id='deadline_warning']//bpmn:timeDate", 'deadline_timers["due_at"]'),
            changed(
                "deadline_warning",
                "boundaryEvent",
                "期限预警",
                'timer: timeDate deadline_timers["warn_at"] → timeDate deadline_timers["due_at"]',
            ),
            id="timer-expression",
        ),
        pytest.param(
            parameter("route_new_incident", "group", '"service_desk"'),
            changed("route_new_incident", "serviceTask", "分派处理环节", 'parameter group: None → "service_desk"'),
            id="service-parameter",
        ),
        pytest.param(
            add_parameter_to_classify,
            changed("classify_incident", "serviceTask", "事件分类", 'parameter channel: (none) → "phone"'),
            id="service-parameter-added",
        ),
        pytest.param(
            set_attribute("classify_incident", "name", "事件分类（新）"),
            changed(
                "classify_incident",
                "serviceTask",
                "事件分类",
                "name: 事件分类 → 事件分类（新）",
                name_after="事件分类（新）",
            ),
            id="name",
        ),
        pytest.param(
            move_to_lane("first_line_handling", "lane_second_line"),
            changed(
                "first_line_handling",
                "userTask",
                "一线尝试解决",
                "lane: 一线 → 二线",
                "role: first_line → second_line_dev / second_line_test / second_line_is",
            ),
            id="lane-membership",
        ),
        pytest.param(
            form_property("register_incident", "formUiSchemaFilename", "register_incident_v2.uischema.json"),
            changed(
                "register_incident",
                "userTask",
                "事件登记",
                "form UI schema: register_incident.uischema.json → register_incident_v2.uischema.json",
            ),
            id="form-file",
        ),
        pytest.param(
            set_attribute("case_updated_signal", "signalRef", "signal_tracking_requested"),
            changed(
                "case_updated",
                "boundaryEvent",
                "事件信息更新",
                "event: signal case_updated → signal tracking_requested",
            ),
            id="signal-ref",
        ),
        pytest.param(
            set_attribute("warning_withdrawn", "cancelActivity", "false"),
            changed("warning_withdrawn", "boundaryEvent", "处理已结束", "interrupting: yes → no"),
            id="cancel-activity",
        ),
        pytest.param(
            set_attribute("tracking_requested", "attachedToRef", "notify_fault"),
            changed(
                "tracking_requested", "boundaryEvent", "转发事件经理跟踪", "attached to: handle_incident → notify_fault"
            ),
            id="attached-to",
        ),
        pytest.param(
            set_attribute("gw_solved_on_spot", "default", "f_onspot_no"),
            changed("gw_solved_on_spot", "exclusiveGateway", "现场已解决?", "default flow: (none) → f_onspot_no"),
            id="default-flow",
        ),
        pytest.param(
            retype("record_on_spot_closure", "task"),
            changed("record_on_spot_closure", "task", "记录关闭", "type: serviceTask → task"),
            id="type",
        ),
    ],
)
def test_one_edit_is_one_changed_element_saying_what_changed(mutate, expected):
    assert diff(shipped(), edited(mutate)) == DiagramDiff([], [], [expected], layout_changed=False)


def test_operation_and_result_variable_changes_are_listed_in_order():
    def redirect(root):
        operator = find(root, "route_pass_on").find(".//spiffworkflow:serviceTaskOperator", NS)
        operator.set("id", "reclassify")
        operator.set("resultVariable", "assessment")

    (change,) = diff(shipped(), edited(redirect)).changed
    assert change.details == ("operation: dispatch → reclassify", "result variable: dispatch → assessment")


def test_a_layout_only_move_changes_no_element_but_the_layout():
    assert diff(shipped(), edited(move_shape)) == DiagramDiff([], [], [], layout_changed=True)
    assert not diff(shipped(), edited(move_shape)).unchanged


def test_layout_compares_numbers_not_their_spelling():
    respelled = edited(lambda root: shape_of(root, "register_incident").find("dc:Bounds", DI).set("x", "190.0"))
    assert diff(shipped(), respelled) == NO_CHANGE


def test_a_label_moved_is_a_layout_change():
    def move_label(root):
        shape_of(root, "start_incident").find("bpmndi:BPMNLabel/dc:Bounds", DI).set("y", "150")

    assert diff(shipped(), edited(move_label)) == DiagramDiff([], [], [], layout_changed=True)


def test_edits_and_moves_together():
    both = edited(move_shape, edited(set_attribute("register_incident", "name", "登记")))
    assert diff(shipped(), both) == DiagramDiff(
        [], [], [changed("register_incident", "userTask", "事件登记", "name: 事件登记 → 登记", name_after="登记")], True
    )


def test_unreadable_xml_is_a_model_error():
    with pytest.raises(ModelError):
        diff(shipped(), "<not xml")


# --- every attribute the engine reads -----------------------------------------------------------------------------


def test_a_signal_renamed_or_given_another_payload_shows_on_the_signal():
    def rename(root):
        signal = find(root, "signal_case_updated")
        signal.set("name", "case_changed")
        signal.find(f".//{{{SPIFF_NS}}}payloadExpression").text = "facts"

    changes = diff(shipped(), edited(rename))
    (signal,) = [change for change in changes.changed if change.element_id == "signal_case_updated"]
    assert signal.details == ("name: case_updated → case_changed", "payload: case_update → facts")
    # the events that throw and catch it show the name the engine matches on
    events = {change.element_id: change.details for change in changes.changed if change.kind.endswith("Event")}
    assert events["case_updated"] == ("event: signal case_updated → signal case_changed",)
    assert events["throw_late_notification"] == ("event: signal case_updated → signal case_changed",)


def test_multi_instance_settings_show_part_by_part():
    def parallel(root):
        loop = bpmn("multiInstanceLoopCharacteristics", find(root, "notify_fault"))
        bpmn("loopCardinality", loop, "3")

    def sequential(root):
        parallel(root)
        loop = find(root, "notify_fault").find("bpmn:multiInstanceLoopCharacteristics", NS)
        loop.set("isSequential", "true")
        loop.find("bpmn:loopCardinality", NS).text = "2"

    (added,) = diff(shipped(), edited(parallel)).changed
    assert added.details == ("loop: (none) → multi-instance, parallel", "loop loopCardinality: (none) → 3")
    (changed_loop,) = diff(edited(parallel), edited(sequential)).changed
    assert changed_loop.details == (
        "loop: multi-instance, parallel → multi-instance, sequential",
        "loop loopCardinality: 3 → 2",
    )


def test_a_lane_given_another_name_shows_who_works_it_now():
    changes = diff(shipped(), edited(lambda root: find(root, "lane_first_line").set("name", "事件经理")))
    lane = next(change for change in changes.changed if change.element_id == "lane_first_line")
    assert lane.details == ("name: 一线 → 事件经理", "role: first_line → incident_manager")


def test_making_the_process_not_executable_shows():
    changes = diff(shipped(), edited(lambda root: root.find("bpmn:process", NS).set("isExecutable", "false")))
    assert changes.changed == [changed("incident_management", "process", "事件管理流程", "executable: yes → no")]
