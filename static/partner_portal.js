// The partner portal's Copy buttons: <button data-copy="ID"> copies the value of the field with that id.
// Without JavaScript the buttons stay hidden and the fields are plain, selectable text; without the
// clipboard API (or permission for it) the text is selected so that Ctrl+C copies it.
(function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    if (!field) { return; }
    button.hidden = false;
    var done = function () { button.textContent = button.dataset.copied; };
    var selectIt = function () {
      field.focus();
      field.select();
      try { if (document.execCommand("copy")) { done(); } } catch (ignored) { /* the text stays selected */ }
    };
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, selectIt);
      } else {
        selectIt();
      }
    });
  });
})();
