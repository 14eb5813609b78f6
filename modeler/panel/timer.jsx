// A timer event's kind (date, duration, cycle) and value: a Python expression, so an ISO 8601 value is a quoted
// string. Replaces bpmn-js-properties-panel's timer group, whose help shows unquoted values.
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { run, update } from './extensions.js';

const KINDS = [ 'timeDate', 'timeDuration', 'timeCycle' ];

export function timerDefinition(element) {
  const definitions = getBusinessObject(element).get('eventDefinitions') || [];
  return definitions.find((definition) => is(definition, 'bpmn:TimerEventDefinition'));
}

function kindOf(definition) {
  return KINDS.find((kind) => definition.get(kind)) || '';
}

export function TimerEntries({ element }) {
  const entries = [ { id: 'app-timer-kind', component: TimerKind, element, isEdited: isSelectEntryEdited } ];
  if (kindOf(timerDefinition(element))) {
    entries.push({ id: 'app-timer-value', component: TimerValue, element, isEdited: isTextFieldEntryEdited });
  }
  return entries;
}

function TimerKind({ element }) {
  const translate = useService('translate');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const setValue = (kind) => {
    const definition = timerDefinition(element);
    const old = kindOf(definition);
    if (kind === old) { return; }
    const properties = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
    if (kind) {
      const body = old ? definition.get(old).get('body') : undefined;
      properties[kind] = bpmnFactory.create('bpmn:FormalExpression', { body });
      properties[kind].$parent = definition;
    }
    run(commandStack, [ update(element, definition, properties) ]);
  };
  return <SelectEntry
    element={ element }
    id="app-timer-kind"
    label={ translate('Type') }
    getValue={ () => kindOf(timerDefinition(element)) }
    setValue={ setValue }
    getOptions={ () => [
      { value: '', label: translate('<none>') },
      { value: 'timeDate', label: translate('Date') },
      { value: 'timeDuration', label: translate('Duration') },
      { value: 'timeCycle', label: translate('Cycle') }
    ] } />;
}

function TimerValue({ element }) {
  const translate = useService('translate');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  const expression = () => {
    const definition = timerDefinition(element);
    return definition.get(kindOf(definition));
  };
  return <TextFieldEntry
    element={ element }
    id="app-timer-value"
    label={ translate('Value') }
    description={ translate('A Python expression: an ISO 8601 value in quotes ("PT30M", "2026-03-02T09:00:00+08:00", "R3/PT10M") or a variable set here, e.g. assessment["notify_by"].') }
    getValue={ () => expression().get('body') || '' }
    setValue={ (value) => run(commandStack, [ update(element, expression(), { body: value || '' }) ]) }
    debounce={ debounce } />;
}
