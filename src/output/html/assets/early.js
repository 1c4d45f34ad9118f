// Runs first, in the page's head: any script error on the page (inferno's
// flame graph script included) is shown at the top of the page instead of
// leaving a half-working page without a word.
"use strict";
window.autofoldErrors = [];
window.addEventListener("error", function (event) {
  var where = event.filename ? " (" + event.filename.split("/").pop() + ":" + event.lineno + ")" : "";
  window.autofoldErrors.push(event.message + where);
  var box = document.getElementById("script-errors");
  if (box) {
    box.hidden = false;
    box.textContent = "This page's script failed, so parts of it may not respond:\n" +
      window.autofoldErrors.join("\n");
  }
});
