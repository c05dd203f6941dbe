// Follows the progress of releases being built: polls the releases API, moves the progress bars,
// and reloads the list once a build finishes (unless the cut-release form is being filled in).
(function () {
  "use strict";
  var table = document.getElementById("releases");
  if (!table || !table.querySelector("tr.release[data-building]")) { return; }
  var form = document.getElementById("release-cut");
  var editing = false;
  if (form) { form.addEventListener("input", function () { editing = true; }); }

  function update(release) {
    var row = table.querySelector('tr.release[data-release-id="' + release.id + '"]');
    if (!row || !row.hasAttribute("data-building")) { return false; }
    if (release.status !== "queued" && release.status !== "building") { return true; }
    var bar = row.querySelector("progress");
    var label = row.querySelector(".percent");
    if (bar) { bar.value = release.progress; }
    if (label) { label.textContent = Math.round(release.progress * 100) + " %"; }
    return false;
  }
  function poll() {
    fetch(table.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (data) {
        var releases = Array.isArray(data) ? data : (data.results || []);
        var finished = releases.map(update).some(Boolean);
        if (finished && !editing) { window.location.reload(); }
      })
      .catch(function () { /* the next poll tries again */ });
  }
  window.setInterval(poll, 3000);
})();
