// Ask model anything: the annotator's question, the text-only LLM's answer (shown with progress
// while it is written), then accept, edit, or feedback and a revision, as many rounds as needed.

import { api, newUuid } from "./api.js";
import { submitWithRetry } from "./submit.js";
import { config, isTyping, status, TaskShell } from "./task.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1500;
const ROLE_NAMES = { question: "You asked", answer: "Model", feedback: "Your feedback", edit: "Your edit" };

let thread = null;
let pollTimer = null;
let pendingSince = null;

const shell = new TaskShell({ onAssignment: reset });

async function reset(assignment) {
  clearTimeout(pollTimer);
  thread = null;
  $("ask-form").hidden = false;
  $("question").value = "";
  $("question").disabled = false;
  $("ask").disabled = false;
  render();
  // After a reload the thread of this item is still on the server: pick it up where it was.
  const saved = await api(`/api/assignments/${assignment.id}/ask-thread/`).catch(() => null);
  if (saved?.thread && shell.assignment?.id === assignment.id) {
    thread = saved.thread;
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
    thread = await submitWithRetry(`/api/assignments/${shell.assignment.id}/ask/`,
      { client_uuid: newUuid(), question }, { what: "your question" });
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
  if (!(await act(`/api/ask-threads/${thread.id}/feedback/`, { feedback: text }, "your feedback"))) return;
  $("feedback").value = "";
  poll();
}

function startEdit() {
  const last = [...thread.turns].reverse().find((turn) => turn.role === "answer" && turn.status === "ready");
  $("edited").value = last?.text ?? "";
  $("edit-form").hidden = false;
  $("edited").focus();
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
