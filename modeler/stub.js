// What the bundle has instead of the properties panel's code editors (CodeMirror, the FEEL editors) and Camunda's
// variable extraction: this app's expressions are Python, edited as plain text, and only the BPMN entries are used.
// Anything may be read or called on it while the bundle loads; nothing renders it. A name a new version imports and
// this file lacks fails the build (esbuild checks named imports).
const stub = new Proxy(function () {}, {
  get: (target, key) => (key === Symbol.toPrimitive ? () => '' : stub),
  apply: () => stub,
  construct: () => stub
});

export default stub;
export const Annotation = stub, EditorState = stub, EditorView = stub, FeelersEditor = stub, bracketMatching = stub,
  closeBrackets = stub, closeBracketsKeymap = stub, defaultHighlightStyle = stub, defaultKeymap = stub,
  drawSelection = stub, foldGutter = stub, foldKeymap = stub, getVariablesForElement = stub,
  getVariablesForScope = stub, highlightSpecialChars = stub, history = stub, historyKeymap = stub, json = stub,
  jsonParseLinter = stub, keymap = stub, lineNumbers = stub, linter = stub, placeholder = stub,
  syntaxHighlighting = stub;
