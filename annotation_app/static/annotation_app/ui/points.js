// The pointing task: every instance of a label, in pixels of the original image (the server
// adds 0–100 percent). "Not present" is an answer of its own, different from skipping. Every set
// starts with no label: the annotator names or chooses one before placing a point, so a label
// list's first entry is never stored by default.

import { newUuid } from "./api.js";
import { submitWithRetry } from "./submit.js";
import { config, isTyping, status, TaskShell } from "./task.js";

const $ = (id) => document.getElementById(id);
const MARKER_RADIUS_PX = 7; // on screen, at any zoom
const labelField = $("label");
const hasLabelList = config.project.labels.length > 0;

let sets = [];
let active = 0;
let history = [];
let lastTouched = null; // {set, index} for the Delete key

const shell = new TaskShell({ onAssignment: reset });
shell.viewer.onClick = (x, y) => addPoint(x, y);
shell.viewer.onTransform = () => draw();

function newSet() {
  return { uuid: newUuid(), label: "", points: [], notPresent: false };
}

function reset() {
  sets = [newSet()];
  active = 0;
  history = [];
  lastTouched = null;
  render();
}

function snapshot() {
  history.push(JSON.stringify({ sets, active }));
  if (history.length > 200) history.shift();
}

function undo() {
  const previous = history.pop();
  if (!previous) return;
  ({ sets, active } = JSON.parse(previous));
  lastTouched = null;
  render();
}

function hasLabel(set) {
  return set.label.trim() !== "";
}

// A point or a "not present" needs a label first: say so where the eye is, and go to the field.
function labelFirst() {
  if (hasLabel(sets[active])) return true;
  $("label-hint").classList.add("needed");
  status(hasLabelList ? "Choose a label before placing points." : "Name what you point at before placing points.", "warn");
  labelField.focus();
  return false;
}

function addPoint(x, y) {
  if (!labelFirst()) return;
  snapshot();
  const set = sets[active];
  set.notPresent = false;
  set.points.push({ x, y });
  lastTouched = { set: active, index: set.points.length - 1 };
  render();
}

function removePoint(setIndex, index) {
  snapshot();
  sets[setIndex].points.splice(index, 1);
  lastTouched = null;
  render();
}

function toggleNotPresent() {
  if (!labelFirst()) return;
  snapshot();
  const set = sets[active];
  set.notPresent = !set.notPresent;
  if (set.notPresent) set.points = [];
  render();
}

function valid(set) {
  return hasLabel(set) && (set.notPresent !== (set.points.length > 0));
}

function render() {
  const set = sets[active];
  if (labelField.value !== set.label) labelField.value = set.label;
  $("label-hint").hidden = hasLabel(set);
  if (hasLabel(set)) $("label-hint").classList.remove("needed");
  $("viewer").classList.toggle("needs-label", !hasLabel(set));
  $("count").textContent = set.notPresent ? "not present" : String(set.points.length);
  $("not-present").setAttribute("aria-pressed", String(set.notPresent));
  $("not-present").classList.toggle("on", set.notPresent);
  $("undo").disabled = !history.length;
  $("submit").disabled = !sets.every(valid);
  $("add-set").disabled = !valid(set);
  renderSets();
  draw();
}

function renderSets() {
  const list = $("sets");
  list.replaceChildren();
  if (sets.length < 2) return;
  sets.forEach((set, index) => {
    const row = document.createElement("li");
    row.className = index === active ? "active" : "";
    row.style.setProperty("--set-colour", colour(index));
    const pick = document.createElement("button");
    pick.type = "button";
    pick.className = "link";
    pick.textContent = `${set.label || "(no label yet)"} · ${set.notPresent ? "not present" : set.points.length}`;
    pick.addEventListener("click", () => { active = index; render(); });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = "×";
    remove.title = "Remove this label and its points";
    remove.addEventListener("click", () => {
      snapshot();
      sets.splice(index, 1);
      if (!sets.length) sets.push(newSet());
      active = Math.min(active, sets.length - 1);
      render();
    });
    row.append(pick, remove);
    list.append(row);
  });
}

function colour(index) {
  return ["#ff3b30", "#2f6fde", "#34c759", "#ff9500", "#af52de", "#00c7be"][index % 6];
}

function draw() {
  const viewer = shell.viewer;
  const unit = viewer.unit;
  const layer = viewer.svg("g");
  sets.forEach((set, setIndex) => {
    set.points.forEach((point, index) => {
      const marker = viewer.svg("g", {
        class: `marker${setIndex === active ? " active" : ""}`, "data-handle": "", "data-set": setIndex, "data-index": index,
        transform: `translate(${point.x} ${point.y})`,
      });
      marker.append(
        viewer.svg("circle", { r: MARKER_RADIUS_PX * unit, fill: colour(setIndex), stroke: "#fff", "stroke-width": 2 * unit }),
        viewer.svg("circle", { r: 1.2 * unit, fill: "#fff" }),
      );
      layer.append(marker);
    });
  });
  viewer.overlay.replaceChildren(layer);
}

// Dragging a marker moves its point; right-click removes it.
function listenToMarkers() {
  const overlay = shell.viewer.overlay;
  let drag = null;
  overlay.addEventListener("pointerdown", (event) => {
    const marker = event.target.closest("[data-handle]");
    if (!marker || event.button !== 0) return;
    event.preventDefault();
    const set = Number(marker.dataset.set);
    const index = Number(marker.dataset.index);
    active = set;
    lastTouched = { set, index };
    drag = { set, index, id: event.pointerId, moved: false, before: JSON.stringify({ sets, active }) };
    overlay.setPointerCapture(event.pointerId);
  });
  overlay.addEventListener("pointermove", (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    const point = shell.viewer.toImage(event.clientX, event.clientY);
    const viewer = shell.viewer;
    sets[drag.set].points[drag.index] = {
      x: Math.min(Math.max(point.x, 0), viewer.width), y: Math.min(Math.max(point.y, 0), viewer.height),
    };
    drag.moved = true;
    draw();
  });
  const end = (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    if (drag.moved) history.push(drag.before);
    drag = null;
    render();
  };
  overlay.addEventListener("pointerup", end);
  overlay.addEventListener("pointercancel", end);
  shell.viewer.viewer.addEventListener("contextmenu", (event) => {
    const marker = event.target.closest("[data-handle]");
    event.preventDefault();
    if (marker) removePoint(Number(marker.dataset.set), Number(marker.dataset.index));
  });
}

async function submit() {
  if ($("submit").disabled) return;
  $("submit").disabled = true;
  const payload = {
    finish: true,
    point_sets: sets.map((set) => ({
      client_uuid: set.uuid,
      label: set.label.trim(),
      not_present: set.notPresent,
      points: set.points.map((point) => ({ x_px: point.x, y_px: point.y })),
    })),
  };
  try {
    const stored = await submitWithRetry(`/api/assignments/${shell.assignment.id}/points/`, payload, { what: "your points" });
    status(storedSummary(stored), "ok");
    await shell.next();
  } catch (error) {
    status(`Not stored: ${error.message}`, "error");
    render();
  }
}

// "Stored 3 points for 'cup'; marked 'cat' not present." from the rows the server stored.
function storedSummary(stored) {
  const pointed = stored.filter((row) => !row.not_present);
  const absent = stored.filter((row) => row.not_present);
  const parts = [];
  if (pointed.length) {
    const total = pointed.reduce((sum, row) => sum + row.points.length, 0);
    parts.push(`stored ${total} point${total === 1 ? "" : "s"} for ${quotedList(pointed)}`);
  }
  if (absent.length) parts.push(`marked ${quotedList(absent)} not present`);
  const text = parts.join("; ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function quotedList(rows) {
  const names = rows.map((row) => `'${row.label}'`);
  return names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

function onKey(event) {
  if (event.key === "Enter" && event.target === labelField) {
    event.preventDefault();
    labelField.blur();
    return;
  }
  if (isTyping(event) || $("workspace").hidden) return;
  const key = event.key;
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z") undo();
  else if (event.ctrlKey || event.metaKey || event.altKey) return;
  else if (shell.viewer.handleZoomKey(key)) { /* zoomed or panned */ }
  else if (key === "z" || key === "Z" || key === "u") undo();
  else if (key === "n" || key === "N") toggleNotPresent();
  else if ((key === "Delete" || key === "Backspace") && lastTouched) removePoint(lastTouched.set, lastTouched.index);
  else if (key === "Enter") submit();
  else if (key === "s" || key === "S") shell.skip();
  else return;
  event.preventDefault();
}

labelField.addEventListener("input", () => {
  if ($("label-hint").classList.contains("needed")) status("");
  sets[active].label = labelField.value;
  render();
});
$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", () => { snapshot(); sets[active].points = []; render(); });
$("not-present").addEventListener("click", toggleNotPresent);
$("add-set").addEventListener("click", () => {
  snapshot();
  sets.push(newSet());
  active = sets.length - 1;
  render();
  labelField.focus();
});
$("submit").addEventListener("click", submit);
document.addEventListener("keydown", onKey);
listenToMarkers();
shell.next();
