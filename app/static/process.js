// Process owners' pages: the diagram in the vendored bpmn-js (the viewer, or the modeler with its properties panel
// built from modeler/), problems marked on it, and saving the modeler's diagram into the draft. The page's data
// comes from a JSON block (<script type="application/json" id="diagram-data">); every text shown comes from the
// server, translated (the modeler's own texts too: data.modeler_texts).
(function () {
  "use strict";

  var box = document.querySelector("[data-bpmn]");
  if (!box) { return; }
  var isModeler = box.getAttribute("data-bpmn") === "modeler";
  if (typeof (isModeler ? window.ProcessModeler : window.BpmnJS) !== "function") { return; }
  var source = document.getElementById(box.getAttribute("data-source"));
  var data = JSON.parse(source.textContent);
  var text = data.text || {};
  var diagram;
  var problemMarks = [];

  function registry() { return diagram.get("elementRegistry"); }
  function canvas() { return diagram.get("canvas"); }

  function addMarks(ids, marker) {
    var added = [];
    (ids || []).forEach(function (id) {
      if (id && registry().get(id) && added.indexOf(id) < 0) {
        canvas().addMarker(id, marker);
        added.push(id);
      }
    });
    return added;
  }

  function markProblems(problems) {
    problemMarks.forEach(function (id) {
      if (registry().get(id)) { canvas().removeMarker(id, "has-problem"); }
    });
    problemMarks = addMarks(problems.map(function (p) { return p.element_id; }), "has-problem");
  }

  // Select an element and bring it into view (zooming in if the whole diagram is shown small).
  function showElement(id) {
    var element = registry().get(id);
    if (!element) { return false; }
    if (canvas().zoom() < 0.8) { canvas().zoom(1); }
    canvas().scrollToElement(element, { top: 120, bottom: 120, left: 160, right: 160 });
    diagram.get("selection").select(element);
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".element-link") : null;
    if (!link) { return; }
    event.preventDefault();
    document.querySelectorAll(".problems li.is-selected").forEach(function (li) { li.classList.remove("is-selected"); });
    var item = link.closest("li");
    if (item) { item.classList.add("is-selected"); }
    if (showElement(link.getAttribute("data-element-id"))) {
      box.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });

  document.querySelectorAll("[data-diagram-fit]").forEach(function (button) {
    button.addEventListener("click", function () { canvas().zoom("fit-viewport", "auto"); });
  });

  function show() {
    diagram.importXML(data.xml).then(function () {
      canvas().zoom("fit-viewport", "auto");
      addMarks(data.added, "diff-added");
      addMarks(data.changed, "diff-changed");
      markProblems(data.problems || []);
      box.setAttribute("data-ready", "true");
    }).catch(function (error) {
      var message = document.createElement("p");
      message.className = "diagram-error";
      message.textContent = box.getAttribute("data-import-failed") + " " + (error && error.message ? error.message : error);
      box.appendChild(message);
      box.setAttribute("data-ready", "error");
    });
  }

  if (!isModeler) {
    diagram = new window.BpmnJS({ container: box });
    show();
    return;
  }
  // The panel offers the draft's forms and the app's operations; without them it still edits everything else.
  fetch(data.choices_url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) { return response.ok ? response.json() : {}; })
    .catch(function () { return {}; })
    .then(function (choices) {
      diagram = new window.ProcessModeler({
        container: box,
        panel: document.querySelector("[data-properties-panel]"),
        texts: data.modeler_texts,
        forms: choices.forms,
        operations: choices.operations,
        problems: data.problems
      });
      show();
      setUpEditor();
    });

  // --- the modeler: save into the draft --------------------------------------------------------------------

  function setUpEditor() {
    var lockVersion = data.lock_version;
    var conflictLock = null;
    var changes = 0;
    var savedChanges = 0;
    var status = document.querySelector("[data-editor-status]");
    var saveButton = document.querySelector("[data-editor-save]");
    var overwriteButton = document.querySelector("[data-editor-overwrite]");
    var downloadButton = document.querySelector("[data-editor-download]");
    var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

    function setStatus(message, state) {
      status.textContent = message || "";
      status.className = "status" + (state ? " " + state : "");
    }

    // data-changes counts the model's changes: a text field's edit lands after bpmn-js' debounce, and whoever waits
    // for it (a save, a test) can tell that it has.
    diagram.on("commandStack.changed", function () {
      changes += 1;
      status.setAttribute("data-changes", changes);
      setStatus(text.unsaved, "is-dirty");
    });

    window.addEventListener("beforeunload", function (event) {
      if (changes !== savedChanges) {
        event.preventDefault();
        event.returnValue = text.leave;
      }
    });

    function renderProblems(problems) {
      var panel = document.querySelector("[data-problem-panel]");
      if (!panel) { return; }
      var list = panel.querySelector("[data-problem-list]");
      list.textContent = "";
      problems.forEach(function (p) {
        var item = document.createElement("li");
        item.className = "problem";
        item.setAttribute("data-element-id", p.element_id || "");
        if (p.element_id) {
          var link = document.createElement("a");
          link.href = "#diagram";
          link.className = "element-link";
          link.setAttribute("data-element-id", p.element_id);
          var code = document.createElement("code");
          code.textContent = p.element_id;
          link.appendChild(code);
          if (p.element_name) { link.appendChild(document.createTextNode(" " + p.element_name)); }
          item.appendChild(link);
          item.appendChild(document.createTextNode(": "));
        }
        var message = document.createElement("span");
        message.className = "message";
        message.textContent = p.message;
        item.appendChild(message);
        list.appendChild(item);
      });
      panel.querySelector("[data-problem-ok]").hidden = problems.length > 0;
      var count = panel.querySelector("[data-problem-count]");
      count.hidden = problems.length === 0;
      count.querySelector("strong").textContent = (text.problems || "").replace("%(count)s", problems.length);
    }

    function save(withLock) {
      var startedAt = changes;
      saveButton.disabled = true;
      setStatus(text.saving);
      diagram.saveXML({ format: true }).then(function (result) {
        return fetch(data.save_url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token },
          body: JSON.stringify({ bpmn_xml: result.xml, lock_version: withLock })
        });
      }).then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (answer) {
        var body = answer.body;
        if (body.ok) {
          lockVersion = body.lock_version;
          savedChanges = startedAt;
          overwriteButton.hidden = true;
          setStatus(changes === startedAt ? text.saved.replace("%(time)s", body.saved_at) : text.unsaved,
                    changes === startedAt ? "" : "is-dirty");
          renderProblems(body.problems);
          markProblems(body.problems);
          diagram.showServerProblems(body.problems);
        } else {
          setStatus(body.error || text.failed, "is-error");
          if (body.conflict && typeof body.lock_version === "number") {
            conflictLock = body.lock_version;
            overwriteButton.hidden = false;
          }
        }
      }).catch(function () {
        setStatus(text.failed, "is-error");
      }).then(function () {
        saveButton.disabled = false;
      });
    }

    saveButton.addEventListener("click", function () { save(lockVersion); });
    overwriteButton.addEventListener("click", function () {
      if (conflictLock !== null) { save(conflictLock); }
    });
    downloadButton.addEventListener("click", function () {
      diagram.saveXML({ format: true }).then(function (result) {
        var url = URL.createObjectURL(new Blob([result.xml], { type: "application/xml" }));
        var link = document.createElement("a");
        link.href = url;
        link.download = data.download_name || "diagram.bpmn";
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      });
    });
    // Ctrl/Cmd+S saves the draft instead of the page.
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
        event.preventDefault();
        save(lockVersion);
      }
    });
  }
})();
