// Progressive enhancement only: every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // On a phone the menu folds behind one button.
  document.querySelectorAll("[data-menu-toggle]").forEach(function (button) {
    var bar = button.closest(".topbar");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  // Beside the registration form: similar incidents as the desk types (a server-rendered fragment).
  document.querySelectorAll("[data-similar-url]").forEach(function (box) {
    var form = box.parentNode.querySelector("form[data-task-form]");
    var title = form && form.querySelector('[name="incident.title"]');
    var description = form && form.querySelector('[name="incident.description"]');
    if (!title) { return; }
    var timer = null, last = "";
    function ask() {
      var params = new URLSearchParams({ title: title.value, description: description ? description.value : "" });
      if (params.toString() === last) { return; }
      last = params.toString();
      fetch(box.getAttribute("data-similar-url") + "?" + last, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) { if (html && params.toString() === last) { box.innerHTML = html; } })
        .catch(function () {});
    }
    [title, description].forEach(function (field) {
      if (field) { field.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 400); }); }
    });
  });

  // The notification bell asks for the unread count every few seconds (docs/notifications.md).
  document.querySelectorAll("[data-bell]").forEach(function (bell) {
    var count = bell.querySelector("[data-unread]");
    var every = parseInt(bell.getAttribute("data-poll-ms"), 10) || 20000;
    function poll() {
      fetch(bell.getAttribute("data-unread-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          count.textContent = data.unread;
          count.hidden = data.unread === 0;
          bell.classList.toggle("has-unread", data.unread > 0);
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }
    window.setInterval(poll, every);
  });
  // Live views (docs/live.md): ask a cheap "changed since" answer every few seconds while the page is
  // in view; on a change, redraw the page's live regions from a fresh copy of the page, unless someone
  // is writing in one (then say that the page has changed, with a link to show it).
  function poll(url, seconds, answered) {
    function ask() {
      if (document.hidden) { return; }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) { if (answer) { answered(answer); } })
        .catch(function () {});
    }
    setInterval(ask, Math.max(2, seconds || 15) * 1000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { ask(); } });
  }
  function writing(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { return true; }
    return Array.prototype.some.call(region.querySelectorAll("textarea, input[type=text], input[type=search], input[type=file]"),
      function (field) { return field.value !== ""; });
  }
  var badge = document.querySelector("[data-live-badge]");
  if (badge) {
    poll(badge.getAttribute("data-live-badge"), +badge.getAttribute("data-poll"), function (answer) {
      document.querySelectorAll("[data-count]").forEach(function (count) {
        count.textContent = answer.text || answer.count;
        count.hidden = !answer.count;
      });
    });
  }
  var live = document.querySelector("[data-live]");
  if (live && window.DOMParser) {
    var seen = live.getAttribute("data-live-version");
    var notice = document.querySelector("[data-live-notice]");
    poll(live.getAttribute("data-live"), +live.getAttribute("data-poll"), function (answer) {
      if (answer.version === seen) { return; }
      fetch(location.href, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var held = false;
          document.querySelectorAll("[data-live-region]").forEach(function (region) {
            var next = fresh.getElementById(region.id);
            if (!next) { return; }
            if (writing(region)) { held = true; } else { region.innerHTML = next.innerHTML; }
          });
          if (held && notice) { notice.hidden = false; } else { seen = answer.version; }
          live.setAttribute("data-live-seen", seen);
        })
        .catch(function () {});
    });
  }

  // Language switch submits on change.
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  // Fields that a form's schema requires only under a condition are shown only then.
  function valueOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) { return input.type === "checkbox" && input.value === "true" ? "true" : input.value; }
      } else { return input.value; }
    }
    return inputs.length && inputs[0].type === "checkbox" ? "false" : "";
  }
  document.querySelectorAll("form[data-task-form]").forEach(function (form) {
    var dependent = form.querySelectorAll("[data-show-when]");
    function update() {
      dependent.forEach(function (field) {
        var rules = JSON.parse(field.getAttribute("data-show-when"));
        var shown = rules.some(function (rule) { return valueOf(form, rule[0]) === rule[1]; });
        field.hidden = !shown && !field.classList.contains("has-error");
      });
    }
    form.addEventListener("change", update);
    update();
  });

  // A field with a length limit counts what is typed, so nothing is cut off unnoticed.
  document.querySelectorAll("[data-counter]").forEach(function (counter) {
    var field = counter.parentNode.querySelector("textarea, input");
    if (!field) { return; }
    var limit = counter.getAttribute("data-limit");
    function update() {
      counter.textContent = field.value.length + " / " + limit;
      counter.classList.toggle("is-full", field.value.length >= limit);
    }
    field.addEventListener("input", update);
    update();
  });

  // Confirm before destructive or irreversible posts.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
