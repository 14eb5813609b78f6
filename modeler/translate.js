// diagram-js's translate service, answering from the texts the page gives (the server's catalog):
// bpmn-js, the properties panel, bpmnlint's overlays and this app's entries all ask it.
function translate(config) {
  const texts = (config && config.texts) || {};
  return function (template, replacements) {
    const text = Object.prototype.hasOwnProperty.call(texts, template) ? texts[template] : template;
    return text.replace(/{([^}]+)}/g, (match, key) =>
      replacements && key in replacements ? replacements[key] : match);
  };
}
translate.$inject = [ 'config.appModeler' ];

export default { translate: [ 'factory', translate ] };
