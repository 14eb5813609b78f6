// A sequence flow's condition: the Python expression SpiffWorkflow evaluates when the flow's source is left.
import { TextAreaEntry, isTextAreaEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import { run, update } from './extensions.js';

export function ConditionEntries({ element }) {
  return [ { id: 'app-condition', component: Condition, element, isEdited: isTextAreaEntryEdited } ];
}

export function setCondition(element, value, bpmnFactory, commandStack) {
  const bo = getBusinessObject(element);
  const text = (value || '').trim();
  const current = bo.get('conditionExpression');
  if (!text) {
    run(commandStack, current ? [ update(element, bo, { conditionExpression: undefined }) ] : []);
  } else if (current) {
    run(commandStack, [ update(element, current, { body: text }) ]);
  } else {
    const expression = bpmnFactory.create('bpmn:FormalExpression', { body: text });
    expression.$parent = bo;
    run(commandStack, [ update(element, bo, { conditionExpression: expression }) ]);
  }
}

function Condition({ element }) {
  const translate = useService('translate');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  return <TextAreaEntry
    element={ element }
    id="app-condition"
    label={ translate('Condition') }
    description={ translate('A Python expression, e.g. on_spot["solved"] or dispatch["stage"] == "first_line". Leave it empty for an unconditional or default flow.') }
    getValue={ () => {
      const expression = getBusinessObject(element).get('conditionExpression');
      return (expression && expression.get('body')) || '';
    } }
    setValue={ (value) => setCondition(element, value, bpmnFactory, commandStack) }
    debounce={ debounce }
    monospace
    autoResize />;
}
