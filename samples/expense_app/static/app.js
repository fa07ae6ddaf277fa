// Expensely: the only client-side behaviour is opening and closing modal dialogs.
(function () {
  "use strict";

  function openDialog(id) {
    var d = document.getElementById(id);
    if (d && !d.open) d.showModal();
  }

  document.addEventListener("click", function (ev) {
    var opener = ev.target.closest("[data-open-dialog]");
    if (opener) {
      openDialog(opener.getAttribute("data-open-dialog"));
      return;
    }
    var closer = ev.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) closer.closest("dialog").close();
  });

  // A form with data-confirm-dialog asks first; only a button marked data-confirm submits it.
  document.querySelectorAll("form[data-confirm-dialog]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (ev.submitter && ev.submitter.hasAttribute("data-confirm")) return;
      ev.preventDefault();
      openDialog(form.getAttribute("data-confirm-dialog"));
    });
  });

  // Re-rendered after a validation error: show the dialog again.
  document.querySelectorAll("dialog[data-open-on-load]").forEach(function (d) {
    d.showModal();
  });
})();
