// The process owner's modeler: bpmn-js with the properties panel, the spiffworkflow: extensions the engine reads
// (spiffworkflow.json), this app's panel entries (panel/) and bpmnlint, exposed as window.ProcessModeler.
// Every text it shows comes from the page (options.texts, translated by the server).
import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import lintModule from 'bpmn-js-bpmnlint';
import recommended from 'bpmnlint-config';

import spiffworkflow from './spiffworkflow.json';
import appPanelModule from './panel/index.js';
import { serverLintConfig, setServerProblems } from './server-problems.js';
import translateModule from './translate.js';

// What the engine reads is shown open; the other groups of the panel start closed.
const OPEN_GROUPS = Object.fromEntries([ 'general', 'app-form', 'app-operation', 'app-condition', 'app-timer',
  'app-signal', 'app-lane', 'signal' ].map((id) => [ id, { open: true } ]));

/**
 * options: container, panel (the properties panel's parent element), texts ({English: translated}),
 * forms (form names the draft has), operations ([{name, params, summary}]), problems (the server's, as last saved).
 */
function ProcessModeler(options) {
  setServerProblems(options.problems);
  const modeler = new Modeler({
    container: options.container,
    propertiesPanel: { parent: options.panel, layout: { groups: OPEN_GROUPS } },
    linting: { bpmnlint: serverLintConfig(recommended), active: true },
    appModeler: { texts: options.texts || {}, forms: options.forms || [], operations: options.operations || [] },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      appPanelModule,
      lintModule,
      translateModule
    ],
    moddleExtensions: { spiffworkflow }
  });
  // After a save: the server's problems join bpmnlint's on the canvas.
  modeler.showServerProblems = function (problems) {
    setServerProblems(problems);
    const linting = modeler.get('linting');
    if (linting.isActive()) { linting.update(); }
  };
  return modeler;
}

window.ProcessModeler = ProcessModeler;
