// The lane a flow node is in, which decides who works a task: the lane that lists it, else (bpmn-js lists nothing
// inside an expanded sub-process) the innermost lane it is drawn in — as the server reads it (docs/process-model.md).
import { TextFieldEntry } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

export function LaneEntries({ element }) {
  return [ { id: 'app-lane', component: Lane, element } ];
}

function drawnIn(element, elementRegistry) {
  const x = element.x + element.width / 2;
  const y = element.y + element.height / 2;
  const lanes = elementRegistry.filter((shape) => is(shape, 'bpmn:Lane')
    && x >= shape.x && x <= shape.x + shape.width && y >= shape.y && y <= shape.y + shape.height);
  lanes.sort((a, b) => a.width * a.height - b.width * b.height);
  return lanes[0];
}

function Lane({ element }) {
  const translate = useService('translate');
  const elementRegistry = useService('elementRegistry');
  const getValue = () => {
    const listed = (getBusinessObject(element).get('lanes') || []).filter((lane) => !(lane.childLaneSet));
    if (listed.length) {
      return listed.map((lane) => lane.name || lane.id).join(', ');
    }
    const lane = drawnIn(element, elementRegistry);
    if (!lane) { return translate('(in no lane)'); }
    return translate('{lane} (from where it is drawn)', { lane: getBusinessObject(lane).name || lane.id });
  };
  return <TextFieldEntry
    element={ element }
    id="app-lane"
    label={ translate('Lane') }
    description={ translate('Who works a task is decided by its lane: move the task into another lane to change it.') }
    getValue={ getValue }
    setValue={ () => {} }
    debounce={ (fn) => fn }
    disabled />;
}
