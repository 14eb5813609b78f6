// A waiting task's form: one of the draft's forms, or a new one by name (the forms page then offers its skeleton).
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';

import { formName, setForm } from './extensions.js';

const NAME = /^[A-Za-z0-9_-]+$/;

export function FormEntries({ element }) {
  return [
    { id: 'app-form-select', component: FormSelect, element, isEdited: isSelectEntryEdited },
    { id: 'app-form-name', component: FormName, element, isEdited: isTextFieldEntryEdited }
  ];
}

function FormSelect({ element }) {
  const translate = useService('translate');
  const config = useService('config.appModeler');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const forms = config.forms || [];
  const getOptions = () => {
    const current = formName(element);
    const names = current && forms.indexOf(current) < 0 ? [ ...forms, current ] : forms;
    return [ { value: '', label: translate('(no form)') }, ...names.map((name) => ({ value: name, label: name })) ];
  };
  return <SelectEntry
    element={ element }
    id="app-form-select"
    label={ translate('Form') }
    description={ translate('The form the person fills in at this task (forms/NAME.schema.json and NAME.uischema.json).') }
    getValue={ () => formName(element) }
    setValue={ (value) => setForm(element, value, bpmnFactory, commandStack) }
    getOptions={ getOptions } />;
}

function FormName({ element }) {
  const translate = useService('translate');
  const bpmnFactory = useService('bpmnFactory');
  const commandStack = useService('commandStack');
  const debounce = useService('debounceInput');
  return <TextFieldEntry
    element={ element }
    id="app-form-name"
    label={ translate('Form name') }
    description={ translate('Type a new name to create a form: after saving, the Forms page offers its skeleton to fill in.') }
    getValue={ () => formName(element) }
    setValue={ (value) => setForm(element, (value || '').trim(), bpmnFactory, commandStack) }
    validate={ (value) => (!value || NAME.test(value.trim()) ? null : translate('Letters, digits, _ and - only.')) }
    debounce={ debounce } />;
}
