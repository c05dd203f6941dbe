// Keyboard-driven review: a accept, r reject (asks for a reason first), e edit, j/k move, p play.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  var queue = Array.prototype.slice.call(document.querySelectorAll("#review-queue a"));
  var current = queue.findIndex(function (a) { return a.parentElement.classList.contains("current"); });

  function typing(event) {
    var tag = event.target.tagName;
    return tag === "TEXTAREA" || tag === "INPUT" || event.target.isContentEditable;
  }
  function submit(decision) {
    var button = document.getElementById(decision === "edit" ? "save-edit" : decision);
    if (button) { form.requestSubmit(button); }
  }
  function startEdit() {
    var box = form.querySelector(".edit-box");
    if (!box) { return; }
    box.hidden = false;
    document.getElementById("save-edit").hidden = false;
    document.getElementById("edited-text").focus();
  }
  function reject() {
    var reason = document.getElementById("reason");
    if (reason.value.trim()) { submit("reject"); } else { reason.focus(); }
  }
  function move(step) {
    var target = queue[current + step];
    if (target) { window.location = target.href; }
  }
  function togglePlay() {
    var audio = document.querySelector("audio");
    if (audio) { if (audio.paused) { audio.play(); } else { audio.pause(); } }
  }
  if (form) {
    var edit = document.getElementById("edit");
    if (edit) { edit.addEventListener("click", startEdit); }
    form.addEventListener("keydown", function (event) {
      // Ctrl/Cmd+Enter in a text box: save the edit if editing, else reject with the reason.
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit(event.target.id === "edited-text" ? "edit" : "reject");
      }
    });
  }
  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var actions = { a: function () { submit("accept"); }, r: reject, e: startEdit,
                    j: function () { move(1); }, k: function () { move(-1); }, p: togglePlay };
    var action = form || event.key === "j" || event.key === "k" ? actions[event.key] : null;
    if (action) { event.preventDefault(); action(); }
  });
})();
