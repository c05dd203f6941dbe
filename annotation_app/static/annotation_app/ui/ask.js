// Ask model anything: the annotator's question, the text-only LLM's answer (shown with progress
// while it is written), then accept, edit, or feedback and a revision, as many rounds as needed.
// Point-explanations: before asking, the annotator may click the image to place numbered points
// (0–100 percent of the image, one decimal, each with an optional label); the answer refers to
// them with <point …> tags, which the annotator can insert while editing.

import { api, newUuid } from "./api.js";
import { parsePointText } from "./pointtext.js";
import { submitWithRetry } from "./submit.js";
import { isTyping, status, TaskShell } from "./task.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1500;
const ROLE_NAMES = { question: "You asked", answer: "Model", feedback: "Your feedback", edit: "Your edit" };
const MAX_POINTS = 20; // the server's limit (pipelines.qa.MAX_POINTS)
const MAX_LABEL_CHARS = 100;
const MARKER_RADIUS_PX = 11; // on screen, at any zoom

let thread = null;
let pollTimer = null;
let pendingSince = null;
let points = []; // [{x, y, label}] in percent; the thread's own points once it has started

const shell = new TaskShell({ onAssignment: reset });
shell.viewer.onClick = (x, y) => addPoint(x, y);
shell.viewer.onTransform = () => drawPoints();

async function reset(assignment) {
  clearTimeout(pollTimer);
  thread = null;
  points = [];
  $("ask-form").hidden = false;
  $("question").value = "";
  $("question").disabled = false;
  $("ask").disabled = false;
  render();
  // After a reload the thread of this item is still on the server: pick it up where it was.
  const saved = await api(`/api/assignments/${assignment.id}/ask-thread/`).catch(() => null);
  if (saved?.thread && shell.assignment?.id === assignment.id) {
    thread = saved.thread;
    points = thread.points.map(({ x, y, label }) => ({ x, y, label: label ?? "" }));
    $("ask-form").hidden = true;
    render();
    poll();
  }
}

function lastTurn() {
  return thread?.turns[thread.turns.length - 1];
}

function render() {
  const list = $("thread");
  list.replaceChildren();
  for (const turn of thread?.turns ?? []) {
    const item = document.createElement("li");
    item.className = `turn ${turn.role} ${turn.status}`;
    const who = document.createElement("strong");
    who.textContent = ROLE_NAMES[turn.role] ?? turn.role;
    const text = document.createElement("p");
    text.className = "pre";
    text.textContent = turn.status === "pending" ? "…" : turn.status === "failed" ? `(no answer: ${turn.failure_reason})` : turn.text;
    item.append(who, text);
    if (isFlagged(turn)) {
      item.classList.add("flagged");
      item.append(flagNote(turn.verdict));
    }
    list.append(item);
  }
  const last = lastTurn();
  const pending = last?.status === "pending";
  const open = thread?.status === "open";
  $("pending").hidden = !pending;
  if (pending) pendingSince ??= Date.now();
  else pendingSince = null;
  $("answer-failed").hidden = last?.status !== "failed";
  $("answer-failed").textContent = last?.status === "failed"
    ? "The model could not answer. Ask for a revision, or write the answer yourself with Edit." : "";
  $("answer-actions").hidden = !thread || pending || !open;
  $("accept").disabled = last?.role !== "answer" || last?.status !== "ready";
  // A flagged answer can still be accepted, but never as if the checks had passed it.
  $("accept").textContent = isFlagged(last) ? "Accept anyway" : "Accept answer";
  renderPoints();
}

// The guards' verdict travels with each model answer (pipelines.answer_guards); a failed one is
// shown with its reasons in words, under the answer it belongs to.
function isFlagged(turn) {
  return turn?.role === "answer" && turn.status === "ready" && turn.verdict?.passed === false;
}

function flagNote(verdict) {
  const note = document.createElement("div");
  note.className = "warning flag-note";
  note.setAttribute("role", "note");
  const head = document.createElement("div"); // not a <p>: the answer's own text is the turn's paragraph
  const tries = verdict.attempts === 1 ? "1 attempt" : `${verdict.attempts} attempts`;
  head.textContent = `Flagged by the automatic checks (best of ${tries}). Check it against the image: ` +
    "edit it, or ask for a revision, rather than accept it as it is.";
  const reasons = document.createElement("ul");
  reasons.replaceChildren(...verdict.reasons.map((reason) => {
    const item = document.createElement("li");
    item.textContent = reason;
    return item;
  }));
  note.append(head, reasons);
  return note;
}

// --- points ------------------------------------------------------------------------------------

const percent = (value, extent) => Math.round((1000 * value) / extent) / 10;

function addPoint(xPx, yPx) {
  if (thread) return; // the points travel with the question; after asking they are fixed
  if (points.length >= MAX_POINTS) {
    status(`At most ${MAX_POINTS} points per question.`, "warn");
    return;
  }
  const point = { x: percent(xPx, shell.viewer.width), y: percent(yPx, shell.viewer.height), label: "" };
  if (points.some((other) => other.x === point.x && other.y === point.y)) return;
  points.push(point);
  renderPoints();
  $("ask-points").querySelector("li:last-child input")?.focus();
}

function removePoint(index) {
  if (thread) return;
  points.splice(index, 1);
  renderPoints();
}

function renderPoints() {
  const editable = !thread;
  $("points-box").hidden = !editable && points.length === 0;
  $("points-count").textContent = points.length ? `(${points.length})` : "";
  $("points-hint").hidden = !editable;
  const list = $("ask-points");
  list.replaceChildren(...points.map((point, index) => pointRow(point, index, editable)));
  drawPoints();
  renderInsertButtons();
}

function pointRow(point, index, editable) {
  const row = document.createElement("li");
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = String(index + 1);
  const where = document.createElement("span");
  where.className = "muted where";
  where.textContent = `x ${point.x.toFixed(1)}, y ${point.y.toFixed(1)}`;
  row.append(badge);
  if (editable) {
    const label = document.createElement("input");
    label.maxLength = MAX_LABEL_CHARS;
    label.value = point.label;
    label.placeholder = "label (optional)";
    label.setAttribute("aria-label", `Label of point ${index + 1}`);
    label.addEventListener("input", () => { point.label = label.value; renderInsertButtons(); });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link remove";
    remove.textContent = "×";
    remove.title = `Remove point ${index + 1}`;
    remove.setAttribute("aria-label", `Remove point ${index + 1}`);
    remove.addEventListener("click", () => removePoint(index));
    row.append(label, where, remove);
  } else {
    const label = document.createElement("span");
    label.textContent = point.label;
    row.append(label, where);
  }
  return row;
}

function drawPoints() {
  const viewer = shell.viewer;
  const unit = viewer.unit;
  const layer = viewer.svg("g");
  points.forEach((point, index) => {
    const marker = viewer.svg("g", {
      class: "marker ask-point", "data-handle": "", "data-index": index,
      transform: `translate(${(point.x / 100) * viewer.width} ${(point.y / 100) * viewer.height})`,
    });
    const number = viewer.svg("text", {
      "text-anchor": "middle", "dominant-baseline": "central", fill: "#fff", "font-size": 13 * unit,
      "font-weight": "700", "font-family": "system-ui, sans-serif",
    });
    number.textContent = String(index + 1);
    marker.append(
      viewer.svg("circle", { r: MARKER_RADIUS_PX * unit, fill: "#e8590c", stroke: "#fff", "stroke-width": 2 * unit }),
      number,
    );
    layer.append(marker);
  });
  viewer.overlay.replaceChildren(layer);
}

// A right-click on a marker removes its point (as on the pointing task).
shell.viewer.viewer.addEventListener("contextmenu", (event) => {
  const marker = event.target.closest("[data-handle]");
  event.preventDefault();
  if (marker) removePoint(Number(marker.dataset.index));
});

// --- point tags in the edited answer ---------------------------------------------------------

// Readers take tag text literally (no entities), so characters that would break a tag are dropped.
const tagText = (text) => text.replace(/[<>]/g, "").replace(/"/g, "'");

function pointTag(point, index, selected) {
  const words = tagText(selected.trim() || point.label.trim() || `point ${index + 1}`);
  const alt = tagText(point.label.trim()) || words;
  return `<point x="${point.x.toFixed(1)}" y="${point.y.toFixed(1)}" alt="${alt}">${words}</point>`;
}

function insertPoint(index) {
  const field = $("edited");
  const { selectionStart: start, selectionEnd: end, value } = field;
  const tag = pointTag(points[index], index, value.slice(start, end));
  field.setRangeText(tag, start, end, "end");
  field.focus();
  summariseTags();
}

function renderInsertButtons() {
  $("insert-points").hidden = points.length === 0;
  $("insert-buttons").replaceChildren(...points.map((point, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = `Insert point ${index + 1}`;
    if (point.label.trim()) button.title = point.label.trim();
    // Keep the textarea's cursor where it is while the button is pressed.
    button.addEventListener("mousedown", (event) => event.preventDefault());
    button.addEventListener("click", () => insertPoint(index));
    return button;
  }));
  summariseTags();
}

function summariseTags() {
  if (!points.length) return;
  const tagged = parsePointText($("edited").value).filter((piece) => piece.points);
  $("tag-summary").textContent = tagged.length
    ? `The answer refers to points ${tagged.length} time${tagged.length === 1 ? "" : "s"}.`
    : "The answer refers to none of your points yet; without a point tag it is not a point explanation.";
}

function showProgress() {
  if (pendingSince === null) return;
  const seconds = Math.round((Date.now() - pendingSince) / 1000);
  $("pending-text").textContent = `The model is writing its answer… ${seconds} s`;
}

function poll() {
  clearTimeout(pollTimer);
  showProgress();
  if (lastTurn()?.status !== "pending") return;
  pollTimer = setTimeout(async () => {
    try {
      thread = await api(`/api/ask-threads/${thread.id}/`);
      render();
    } catch (error) {
      status(`Still waiting (${error.message})`, "warn");
    }
    poll();
  }, POLL_MS);
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question || thread) return;
  $("ask").disabled = true;
  $("question").disabled = true;
  try {
    const sent = points.map(({ x, y, label }) => ({ x, y, label: label.trim() }));
    thread = await submitWithRetry(`/api/assignments/${shell.assignment.id}/ask/`,
      { client_uuid: newUuid(), question, points: sent }, { what: "your question" });
    $("ask-form").hidden = true;
    status("");
    render();
    poll();
  } catch (error) {
    $("ask").disabled = false;
    $("question").disabled = false;
    status(`Not sent: ${error.message}`, "error");
  }
}

async function feedback(event) {
  event.preventDefault();
  const text = $("feedback").value.trim();
  if (!text) return;
  // One key per feedback: a retry after a lost answer is answered with the stored thread.
  const sent = { feedback: text, client_uuid: newUuid() };
  if (!(await act(`/api/ask-threads/${thread.id}/feedback/`, sent, "your feedback"))) return;
  $("feedback").value = "";
  poll();
}

function startEdit() {
  const last = [...thread.turns].reverse().find((turn) => turn.role === "answer" && turn.status === "ready");
  $("edited").value = last?.text ?? "";
  $("edit-form").hidden = false;
  $("edited").focus();
  summariseTags();
}

async function accept(editedAnswer) {
  const body = editedAnswer === undefined ? {} : { edited_answer: editedAnswer };
  if (!(await act(`/api/ask-threads/${thread.id}/accept/`, body, "your acceptance"))) return;
  status("Accepted; the whole conversation is kept. Here is the next image.", "ok");
  $("edit-form").hidden = true;
  await shell.next();
}

async function act(url, json, what) {
  $("answer-actions").querySelectorAll("button").forEach((button) => { button.disabled = true; });
  try {
    thread = await submitWithRetry(url, json, { what });
    return true;
  } catch (error) {
    status(`Not sent: ${error.message}`, "error");
    return false;
  } finally {
    $("answer-actions").querySelectorAll("button").forEach((button) => { button.disabled = false; });
    render();
  }
}

$("ask-form").addEventListener("submit", ask);
$("feedback-form").addEventListener("submit", feedback);
$("edit").addEventListener("click", startEdit);
$("edited").addEventListener("input", summariseTags);
$("accept").addEventListener("click", () => accept());
$("edit-form").addEventListener("submit", (event) => {
  event.preventDefault();
  accept($("edited").value);
});
document.addEventListener("keydown", (event) => {
  if (isTyping(event) || event.ctrlKey || event.metaKey || event.altKey || $("workspace").hidden) return;
  if (shell.viewer.handleZoomKey(event.key)) event.preventDefault();
  else if ((event.key === "a" || event.key === "A") && !$("answer-actions").hidden && !$("accept").disabled) {
    event.preventDefault();
    accept();
  }
});
shell.next();
