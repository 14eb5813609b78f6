// The panel's entries for what the engine reads: a task's form, a service task's operation and parameters, a
// sequence flow's condition, a timer, a signal's payload and variable, and the lane a task is in. bpmn-js-properties-
// panel's own BPMN entries stay (name, id, isExecutable on the process, the signal's name, multi-instance); its timer
// group is replaced by one that explains the values this app reads.
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';
import { Group } from '@bpmn-io/properties-panel';

import { FormEntries } from './form.jsx';
import { OperationEntries } from './operation.jsx';
import { ConditionEntries } from './condition.jsx';
import { TimerEntries, timerDefinition } from './timer.jsx';
import { SignalEntries, signalOf } from './signal.jsx';
import { LaneEntries } from './lane.jsx';

const LOW_PRIORITY = 400; // after bpmn-js-properties-panel's own provider, so its groups can be replaced

const WAITING_TASKS = [ 'bpmn:UserTask', 'bpmn:ManualTask' ];

export default class AppPropertiesProvider {
  constructor(propertiesPanel, injector, translate) {
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
    this._injector = injector;
    this._translate = translate;
  }

  getGroups(element) {
    return (groups) => {
      const translate = this._translate;
      const bo = getBusinessObject(element);
      const own = [];
      const group = (id, label, entries) => own.push({ id, label: translate(label), entries, component: Group });
      if (isAny(element, WAITING_TASKS) || (is(element, 'bpmn:Task') && bo.$type === 'bpmn:Task')) {
        group('app-form', 'Form', FormEntries({ element }));
      }
      if (is(element, 'bpmn:ServiceTask')) {
        group('app-operation', 'Service operation', OperationEntries({ element }));
      }
      if (is(element, 'bpmn:SequenceFlow')) {
        group('app-condition', 'Condition', ConditionEntries({ element }));
      }
      if (is(element, 'bpmn:Event') && timerDefinition(element)) {
        group('app-timer', 'Timer', TimerEntries({ element }));
      }
      if (is(element, 'bpmn:Event') && signalOf(element)) {
        group('app-signal', 'Signal data', SignalEntries({ element }));
      }
      if (is(element, 'bpmn:FlowNode') && !is(element, 'bpmn:BoundaryEvent')) {
        group('app-lane', 'Lane', LaneEntries({ element }));
      }
      // After *General*: the signal (which one, its name) beside its data, then this app's groups.
      const signal = groups.filter((g) => g.id === 'signal');
      const kept = groups.filter((g) => g.id !== 'timer' && g.id !== 'signal');
      const general = kept.findIndex((g) => g.id === 'general');
      kept.splice(general + 1, 0, ...signal, ...own);
      return kept;
    };
  }
}

AppPropertiesProvider.$inject = [ 'propertiesPanel', 'injector', 'translate' ];
