// The diagram replay on the auditors' history page: the version's diagram drawn with the vendored
// bpmn-js viewer, with the markers the server derived from the audit (app/audit_export.py).
// Page data comes from the <script type="application/json" id="replay-data"> block.
(function () {
  "use strict";
  var holder = document.getElementById("replay-data");
  var container = document.getElementById("replay-canvas");
  if (!holder || !container) { return; }
  var data = JSON.parse(holder.textContent);
  var texts = data.texts || {};

  function fail(error) {
    container.textContent = "";
    var message = document.createElement("p");
    message.className = "replay-error";
    message.style.padding = "12px";
    message.textContent = texts.error || "The diagram could not be drawn.";
    container.appendChild(message);
    container.setAttribute("data-replay", "failed");
    if (window.console && error) { window.console.error(error); }
  }

  if (typeof window.BpmnJS !== "function") { fail(new Error("bpmn-js viewer not loaded")); return; }

  function countBadge(count, escalation) {
    var badge = document.createElement("span");
    badge.className = "replay-count" + (escalation ? " escalation" : "");
    badge.textContent = "×" + count;
    badge.title = (texts.count || "{count}").replace("{count}", String(count));
    return badge;
  }

  var viewer = new window.BpmnJS({ container: container });
  viewer.importXML(data.xml).then(function () {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport");
    var markers = data.markers || {};
    var counts = data.counts || {};
    Object.keys(markers).forEach(function (id) {
      if (!registry.get(id)) { return; } // not in this version of the diagram
      markers[id].forEach(function (marker) { canvas.addMarker(id, "replay-" + marker); });
      var count = counts[id] || 0;
      var escalation = markers[id].indexOf("escalation") >= 0;
      if (count > 1 || (escalation && count > 0)) {
        overlays.add(id, { position: { top: -10, right: 10 }, html: countBadge(count, escalation) });
      }
    });
    container.setAttribute("data-replay", "drawn");
  }).catch(fail);
})();
