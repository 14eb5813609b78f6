// Reading and changing the spiffworkflow: extension elements of a business object, as commands (undoable).
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

export const FORM_SCHEMA = 'formJsonSchemaFilename';
export const FORM_UI_SCHEMA = 'formUiSchemaFilename';

export function extension(bo, type) {
  const ext = bo && bo.get('extensionElements');
  return ext ? ext.get('values').find((value) => is(value, type)) : undefined;
}

/** The commands that give `bo` an extension element of `type` (made by `create`), and that element. */
export function ensureExtension(element, bo, type, bpmnFactory, create) {
  const commands = [];
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push(update(element, bo, { extensionElements: ext }));
  }
  let found = ext.get('values').find((value) => is(value, type));
  if (!found) {
    found = create();
    found.$parent = ext;
    commands.push(update(element, ext, { values: [ ...ext.get('values'), found ] }));
  }
  return { commands, value: found };
}

/** The command that removes `value` from the extension elements of `bo` (and them, if nothing is left). */
export function removeExtension(element, bo, value) {
  const ext = bo.get('extensionElements');
  const values = ext.get('values').filter((other) => other !== value);
  return values.length ? update(element, ext, { values }) : update(element, bo, { extensionElements: undefined });
}

export function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

export function run(commandStack, commands) {
  if (commands.length) {
    commandStack.execute('properties-panel.multi-command-executor', commands);
  }
}

/** The form's name: `register_incident` for register_incident.schema.json (and its .uischema.json). */
export function formName(element) {
  const props = extension(getBusinessObject(element), 'spiffworkflow:Properties');
  const schema = props && props.get('properties').find((p) => p.name === FORM_SCHEMA);
  return schema && schema.value ? schema.value.replace(/\.schema\.json$/, '') : '';
}

export function setForm(element, name, bpmnFactory, commandStack) {
  const bo = getBusinessObject(element);
  if (!name && !extension(bo, 'spiffworkflow:Properties')) { return; }
  const { commands, value: props } = ensureExtension(element, bo, 'spiffworkflow:Properties', bpmnFactory,
    () => bpmnFactory.create('spiffworkflow:Properties', { properties: [] }));
  const others = props.get('properties').filter((p) => p.name !== FORM_SCHEMA && p.name !== FORM_UI_SCHEMA);
  const files = name ? [
    [ FORM_SCHEMA, `${name}.schema.json` ],
    [ FORM_UI_SCHEMA, `${name}.uischema.json` ]
  ].map(([ key, file ]) => {
    const property = bpmnFactory.create('spiffworkflow:Property', { name: key, value: file });
    property.$parent = props;
    return property;
  }) : [];
  const properties = [ ...others, ...files ];
  commands.push(properties.length ? update(element, props, { properties }) : removeExtension(element, bo, props));
  run(commandStack, commands);
}
