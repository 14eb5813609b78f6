"""Keeping an instance's task tree as small as what it still needs: the history is the audit log.

SpiffWorkflow 3.2 never shrinks a task tree: every pass through a loop (handling → confirmation →
reopened → handling, or an update of the facts that restarts the handling) adds its tasks below
the last ones, so an incident's state grows with every action and, at ~180 actions, the tree is
deeper than Python's recursion limit and the instance can never be loaded again.

`prune` runs before every save and removes what the engine can never revisit, keeping everything
its task specs look at (SpiffWorkflow 3.2.0 source, pinned):

- **finished branches** (every task COMPLETED or CANCELLED): a cancelled boundary event of an
  earlier round, a notification branch that ended, a tracking request that was answered;
- **finished links of a chain**: a finished task with one child is spliced out, its child hung on
  its parent. Ancestry among the tasks that stay is unchanged, and every task keeps its own data
  (the serializer stores each task's data as a delta against whatever its parent is);
- **finished sub-processes**: the tasks of a completed "事件处理" round;
- **uncaught signals**: SpiffWorkflow queues each thrown signal nothing in the instance waits for
  (`bpmn_events`, e.g. "处理结束" when no notification is pending) for the embedding application,
  which has no use for them; drained, as `get_events()` is meant to be.

Kept: the root (its data is what the incident was raised with), the last task, every task not
finished, the parent and siblings of each of those (boundary events and event-based gateways look
at them), the split a pending join looks for with its children (BoundaryEventJoin, StartEventJoin),
and each finished instance of a parallel or inclusive join with its parent (those joins count and
merge earlier arrivals). Only the implicit end join of a process (`_EndJoin`) is not kept: its
final data merge feeds `workflow.data` when the process ends, which the application never reads.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED  # ERROR stays: someone has to look at it


def prune(workflow: BpmnWorkflow) -> int:
    """Remove what the instance can never revisit; returns how many tasks went."""
    workflow.get_events()
    removed = 0
    for task_id in list(workflow.subprocesses):
        task = workflow.get_task_from_id(task_id)
        if task.state & FINISHED and task_id in workflow.subprocesses:  # nested ones go with their parent
            removed += len(workflow.delete_subprocess(task))
    removed += _prune_tree(workflow, workflow)
    for sub in list(workflow.subprocesses.values()):
        removed += _prune_tree(sub, workflow)
    return removed


def _prune_tree(workflow: Any, top: BpmnWorkflow) -> int:
    tasks = workflow.tasks
    root = workflow.task_tree
    order = _preorder(root, tasks)
    pinned = {root.id}
    if workflow.last_task is not None:
        pinned.add(workflow.last_task.id)
    for task in order:
        spec = task.task_spec
        if not task.state & FINISHED:
            pinned.add(task.id)
            parent = task.parent
            if parent is not None:
                pinned.add(parent.id)
                pinned.update(parent._children)
            split = getattr(spec, "split_task", None)
            if split:
                ancestor = task.find_ancestor(split)
                if ancestor is not None:
                    pinned.add(ancestor.id)
                    pinned.update(ancestor._children)
        elif _is_join(spec):
            pinned.add(task.id)
            if task.parent is not None:
                pinned.add(task.parent.id)
    keep = set(pinned)
    for task in reversed(order):  # children before parents: a task stays if anything below it stays
        if task.id in keep and task._parent is not None:
            keep.add(task._parent)
    removed = 0
    for task in order:
        if task.id not in keep:
            if task._parent in keep:
                tasks[task._parent]._children.remove(task.id)
            if task.id in top.subprocesses:
                removed += len(top.delete_subprocess(task))
            del tasks[task.id]
            removed += 1
    for task in order:
        if task.id in pinned or task.id not in tasks or len(task._children) != 1:
            continue
        parent = tasks[task._parent]
        child = tasks[task._children[0]]
        parent._children[parent._children.index(task.id)] = child.id
        child._parent = parent.id
        if task.id in top.subprocesses:
            removed += len(top.delete_subprocess(task))
        del tasks[task.id]
        removed += 1
    return removed


def _is_join(spec: Any) -> bool:
    return isinstance(spec, UnstructuredJoin) and not isinstance(spec, _EndJoin) and len(spec.inputs) > 1


def _preorder(root: Any, tasks: dict) -> list[Any]:
    """Every task of the tree, parents before children, without recursion (a tree from before
    pruning can be deeper than Python's recursion limit)."""
    order, stack = [], [root]
    while stack:
        task = stack.pop()
        order.append(task)
        stack.extend(tasks[child] for child in reversed(task._children) if child in tasks)
    return order
