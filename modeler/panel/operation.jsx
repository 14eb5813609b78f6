// A service task's operation (one the app registers), its parameters (Python expressions) and result variable.
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import { ensureExtension, extension, run, update } from './extensions.js';

function operator(element) {
  return extension(getBusinessObject(element), 'spiffworkflow:ServiceTaskOperator');
}

function parameters(op) {
  const list = op && op.get('parameterList');
  return list ? list.get('parameters') : [];
}

export function OperationEntries({ element }) {
  const op = operator(element);
  const entries = [ { id: 'app-operation-select', component: OperationSelect, element, isEdited: isSelectEntryEdited } ];
  if (op) {
    parameters(op).forEach((parameter, index) => entries.push({
      id: `app-operation-parameter-${index}`, component: ParameterValue, element, parameter, isEdited: isTextFieldEntryEdited
    }));
    entries.push({ id: 'app-operation-result', component: ResultVariable, element, isEdited: isTextFieldEntryEdited });
  }
  return entries;
}

function OperationSelect({ element }) {
  const translate = useService('translate');
  const config = useService('config.appModeler');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const operations = config.operations || [];
  const getOptions = () => {
    const current = operator(element);
    const options = operations.map((o) => ({ value: o.name, label: `${o.name} — ${o.summary}` }));
    if (current && current.id && !operations.some((o) => o.name === current.id)) {
      options.push({ value: current.id, label: current.id });
    }
    return [ { value: '', label: translate('(choose an operation)') }, ...options ];
  };
  const setValue = (name) => {
    const known = operations.find((o) => o.name === name);
    if (!known) { return; }
    const bo = getBusinessObject(element);
    const old = operator(element);
    const oldValues = {};
    parameters(old).forEach((p) => { oldValues[p.id] = p.value; });
    const { commands, value: op } = ensureExtension(element, bo, 'spiffworkflow:ServiceTaskOperator', bpmnFactory,
      () => bpmnFactory.create('spiffworkflow:ServiceTaskOperator', {}));
    const list = bpmnFactory.create('spiffworkflow:Parameters', {});
    list.$parent = op;
    list.set('parameters', known.params.map((id) => {
      const parameter = bpmnFactory.create('spiffworkflow:Parameter', { id, type: 'any', value: oldValues[id] || '' });
      parameter.$parent = list;
      return parameter;
    }));
    commands.push(update(element, op, {
      id: name,
      resultVariable: (old && old.resultVariable) || '',
      parameterList: list
    }));
    run(commandStack, commands);
  };
  return <SelectEntry
    element={ element }
    id="app-operation-select"
    label={ translate('Operation') }
    description={ translate('What the application does at this task. Choosing one lists exactly its parameters.') }
    getValue={ () => (operator(element) && operator(element).id) || '' }
    setValue={ setValue }
    getOptions={ getOptions } />;
}

function ParameterValue({ element, parameter, id }) {
  const translate = useService('translate');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  return <TextFieldEntry
    element={ element }
    id={ id }
    label={ translate('Parameter {name}', { name: parameter.id }) }
    description={ translate('A Python expression over the variables set here, e.g. facts or "first_line".') }
    getValue={ () => parameter.value || '' }
    setValue={ (value) => run(commandStack, [ update(element, parameter, { value: value || '' }) ]) }
    debounce={ debounce } />;
}

function ResultVariable({ element }) {
  const translate = useService('translate');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  return <TextFieldEntry
    element={ element }
    id="app-operation-result"
    label={ translate('Result variable') }
    description={ translate('The variable the operation\'s result is stored in.') }
    getValue={ () => operator(element).resultVariable || '' }
    setValue={ (value) => run(commandStack, [ update(element, operator(element), { resultVariable: value || '' }) ]) }
    debounce={ debounce } />;
}
