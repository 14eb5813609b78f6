"""The script engine SpiffWorkflow evaluates every expression with: whitelisted expressions only,
no scripts at all, and service tasks dispatched to the project's operations."""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.engine import operations, safe_expression


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Some SpiffWorkflow paths (message correlations, ad-hoc sub-processes) evaluate through the
    environment directly rather than through the engine: they get the same whitelist."""

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        return safe_expression.evaluate(expression, {**context, **(external_context or {})})

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        raise safe_expression.UnsafeExpression("scripts are not allowed in this system; use a service task")


class SafeScriptEngine(PythonScriptEngine):
    def __init__(self, context: operations.Context):
        super().__init__(environment=SafeEnvironment())
        self.context = context

    def validate(self, expression: str) -> None:
        safe_expression.check(expression)

    def evaluate(self, task, expression: str, external_context: dict | None = None) -> Any:
        try:
            return safe_expression.evaluate(expression, {**task.data, **(external_context or {})})
        except SpiffWorkflowException:
            raise
        except Exception as error:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {error}", task=task, exception=error
            ) from error

    def execute(self, task, script: str, external_context: dict | None = None) -> bool:
        raise WorkflowTaskException("Scripts are not allowed in this system; use a service task", task=task)

    def call_service(self, task, operation_name: str, operation_params: dict) -> str:
        params = {name: param["value"] for name, param in operation_params.items()}
        try:
            result = operations.call(operation_name, params, self.context)
        except SpiffWorkflowException:
            raise
        except Exception as error:
            raise WorkflowTaskException(
                f"Service operation '{operation_name}' failed: {error}", task=task, exception=error
            ) from error
        return json.dumps(result)
