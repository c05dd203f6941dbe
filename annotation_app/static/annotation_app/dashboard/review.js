// Keyboard-driven review: a accept, r reject (asks for a reason first), e edit, j/k move, p play.
// The image beside the text zooms in place on a click: see zoomable() below.
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
  // A click (or the Zoom button) enlarges the image to its natural size, and at least twice its
  // fitted size, inside a frame that keeps the fitted size and scrolls; the clicked spot stays
  // under the pointer. Dragging pans; a click without a drag fits the image again.
  function zoomable(figure) {
    var frame = figure.querySelector(".zoom-frame");
    var image = frame.querySelector("img");
    var button = figure.querySelector(".zoom-toggle");
    var drag = null;
    // The picture inside the fitted box: object-fit: contain centres it, letterboxed, in its box.
    function picture() {
      var box = image.getBoundingClientRect();
      var scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
      var width = image.naturalWidth * scale, height = image.naturalHeight * scale;
      return { left: box.left + (box.width - width) / 2, top: box.top + (box.height - height) / 2, width: width, height: height };
    }
    function zoom(on, clientX, clientY) {
      if (on && !image.naturalWidth) { return; }  // not loaded (yet): nothing to enlarge
      if (on) {
        var fitted = picture(), frameBox = frame.getBoundingClientRect();
        var x = clientX === undefined ? frameBox.left + frameBox.width / 2 : clientX;
        var y = clientY === undefined ? frameBox.top + frameBox.height / 2 : clientY;
        var fx = Math.min(1, Math.max(0, (x - fitted.left) / fitted.width));
        var fy = Math.min(1, Math.max(0, (y - fitted.top) / fitted.height));
        frame.style.height = frameBox.height + "px";  // CSSOM, which the Content-Security-Policy allows
        image.style.width = Math.max(image.naturalWidth, fitted.width * 2) + "px";
        frame.classList.add("zoomed");
        var zoomed = image.getBoundingClientRect();
        frame.scrollLeft = fx * zoomed.width - (x - frameBox.left);  // the clicked spot stays under the pointer
        frame.scrollTop = fy * zoomed.height - (y - frameBox.top);
      } else {
        frame.classList.remove("zoomed");
        frame.style.height = "";
        image.style.width = "";
      }
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "Fit" : "Zoom";
    }
    button.addEventListener("click", function () { zoom(!frame.classList.contains("zoomed")); });
    frame.addEventListener("pointerdown", function (event) {
      var box = frame.getBoundingClientRect();
      var onScrollbar = event.clientX - box.left > frame.clientWidth || event.clientY - box.top > frame.clientHeight;
      if (event.button !== 0 || onScrollbar) { return; }
      drag = { x: event.clientX, y: event.clientY, left: frame.scrollLeft, top: frame.scrollTop, moved: false };
    });
    frame.addEventListener("pointermove", function (event) {
      if (!drag || !frame.classList.contains("zoomed")) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 4) {
        drag.moved = true;
        frame.classList.add("dragging");
        frame.setPointerCapture(event.pointerId);
      }
      if (drag.moved) { frame.scrollLeft = drag.left - dx; frame.scrollTop = drag.top - dy; }
    });
    frame.addEventListener("pointerup", function (event) {
      var press = drag;
      drag = null;
      frame.classList.remove("dragging");
      if (press && !press.moved) { zoom(!frame.classList.contains("zoomed"), event.clientX, event.clientY); }
    });
    frame.addEventListener("pointercancel", function () { drag = null; frame.classList.remove("dragging"); });
    image.addEventListener("dragstart", function (event) { event.preventDefault(); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-zoomable]"), zoomable);

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
