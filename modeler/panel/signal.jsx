// A signal's payload (what a throw sends: a Python expression) and variable (where a catch puts it), kept on the
// bpmn:signal as SpiffWorkflow reads them. The signal itself (which one, its name) is bpmn-js-properties-panel's entry.
import { TextFieldEntry, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { ensureExtension, extension, removeExtension, run, update } from './extensions.js';

export function signalOf(element) {
  const definitions = getBusinessObject(element).get('eventDefinitions') || [];
  const definition = definitions.find((d) => is(d, 'bpmn:SignalEventDefinition'));
  return definition && definition.get('signalRef');
}

export function SignalEntries({ element }) {
  const entries = [];
  if (is(element, 'bpmn:ThrowEvent')) {
    entries.push({ id: 'app-signal-payload', component: SignalText, element, type: 'spiffworkflow:PayloadExpression',
      label: 'Payload', help: 'A Python expression: the data the signal carries to whoever catches it.', isEdited: isTextFieldEntryEdited });
  } else {
    entries.push({ id: 'app-signal-variable', component: SignalText, element, type: 'spiffworkflow:VariableName',
      label: 'Variable', help: 'The variable the payload arrives in where the signal is caught.', isEdited: isTextFieldEntryEdited });
  }
  return entries;
}

function SignalText({ element, id, type, label, help }) {
  const translate = useService('translate');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  const getValue = () => {
    const found = extension(signalOf(element), type);
    return (found && found.value) || '';
  };
  const setValue = (value) => {
    const signal = signalOf(element);
    const text = (value || '').trim();
    const found = extension(signal, type);
    if (!text) {
      run(commandStack, found ? [ removeExtension(element, signal, found) ] : []);
      return;
    }
    const { commands, value: made } = ensureExtension(element, signal, type, bpmnFactory,
      () => bpmnFactory.create(type, {}));
    commands.push(update(element, made, { value: text }));
    run(commandStack, commands);
  };
  return <TextFieldEntry
    element={ element }
    id={ id }
    label={ translate(label) }
    description={ translate(help) + ' ' + translate('Every event of this signal shares it.') }
    getValue={ getValue }
    setValue={ setValue }
    debounce={ debounce } />;
}
