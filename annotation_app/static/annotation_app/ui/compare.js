// Side-by-side preference: the prompt, two answers in the order the server drew for this
// assignment, points named in the answers drawn on the image, five choices with number keys.

import { newUuid } from "./api.js";
import { parsePointText } from "./pointtext.js";
import { submitWithRetry } from "./submit.js";
import { isTyping, status, TaskShell } from "./task.js";

const $ = (id) => document.getElementById(id);
const SIDES = { left: { colour: "#2f6fde", letter: "A" }, right: { colour: "#e8590c", letter: "B" } };
const KEYS = { 1: "left", 2: "right", 3: "tie", 4: "tie_bad", 5: "dont_know" };

let drawn = []; // [{side, x, y}] in 0–100 percent
let sending = false;

const shell = new TaskShell({ onAssignment: show });
shell.viewer.onTransform = () => draw();

function show(assignment) {
  const compare = assignment.compare;
  $("prompt").textContent = compare.prompt;
  drawn = [];
  for (const side of ["left", "right"]) renderAnswer(side, compare[side]);
  draw();
  setChoicesEnabled(true);
}

function renderAnswer(side, text) {
  const box = $(`answer-${side}`);
  box.replaceChildren();
  for (const piece of parsePointText(text)) {
    if (!piece.points) {
      box.append(piece.text);
      continue;
    }
    const mark = document.createElement("mark");
    mark.className = `pointed side-${side}`;
    mark.textContent = piece.text;
    mark.title = `${piece.points.length} point${piece.points.length === 1 ? "" : "s"} on the image`;
    box.append(mark);
    piece.points.forEach((point) => drawn.push({ side, ...point }));
  }
}

function draw() {
  const viewer = shell.viewer;
  const unit = viewer.unit;
  const layer = viewer.svg("g");
  for (const point of drawn) {
    const x = (point.x / 100) * viewer.width;
    const y = (point.y / 100) * viewer.height;
    const marker = viewer.svg("g", { class: `answer-point side-${point.side}`, transform: `translate(${x} ${y})` });
    marker.append(
      viewer.svg("circle", { r: 9 * unit, fill: SIDES[point.side].colour, stroke: "#fff", "stroke-width": 2 * unit }),
      Object.assign(viewer.svg("text", {
        "text-anchor": "middle", "dominant-baseline": "central", "font-size": 11 * unit, fill: "#fff",
      }), { textContent: SIDES[point.side].letter }),
    );
    layer.append(marker);
  }
  viewer.overlay.replaceChildren(layer);
}

function setChoicesEnabled(enabled) {
  document.querySelectorAll("[data-choice]").forEach((button) => { button.disabled = !enabled; });
}

async function choose(choice) {
  if (sending || !shell.assignment) return;
  sending = true;
  setChoicesEnabled(false);
  try {
    await submitWithRetry(`/api/assignments/${shell.assignment.id}/judgment/`,
      { client_uuid: newUuid(), choice }, { what: "your choice" });
    status("Stored. Here is the next pair.", "ok");
    await shell.next();
  } catch (error) {
    status(`Not stored: ${error.message}`, "error");
    setChoicesEnabled(true);
  } finally {
    sending = false;
  }
}

document.querySelectorAll("[data-choice]").forEach((button) => {
  button.addEventListener("click", () => choose(button.dataset.choice));
});
document.addEventListener("keydown", (event) => {
  if (isTyping(event) || event.ctrlKey || event.metaKey || event.altKey || $("workspace").hidden) return;
  if (KEYS[event.key]) choose(KEYS[event.key]);
  else if (!shell.viewer.handleZoomKey(event.key)) return;
  event.preventDefault();
});
shell.next();
