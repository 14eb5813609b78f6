// The API's browsable page: Swagger UI (vendored) on the document named by the page; no inline script.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.spec, domNode: root, deepLinking: true, tryItOutEnabled: false });
});
