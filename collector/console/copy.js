// Copy buttons of the invite page. Without JavaScript the personal link
// is a read-only field to select and copy by hand; with it, each
// button[data-copy] (hidden until this script shows it) copies the
// value of the field it names and says so in its status element.
"use strict";
(function () {
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status"));
    if (!field) return;
    field.addEventListener("focus", function () { field.select(); });
    button.hidden = false;
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      function done() { if (status) status.textContent = button.getAttribute("data-done"); }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          if (document.execCommand("copy")) done();
        });
      } else if (document.execCommand("copy")) {
        done();
      }
    });
  });
})();
