// The spoken-caption task: record, listen back, submit; every recording survives until sent.

import { api, newUuid } from "./api.js";
import { knowLength } from "./playback.js";
import { Recorder } from "./recorder.js";
import { recordingBlob, recordingDelete, recordingsAll } from "./store.js";
import { config, isTyping, status, TaskShell } from "./task.js";
import { Uploader } from "./uploader.js";

const $ = (id) => document.getElementById(id);
const project = config.project;
const RESULT_POLL_MS = 2000;
const RESULT_POLL_LIMIT_MS = 15 * 60 * 1000;
const SENT_NOTE_KEEP_MS = 7 * 24 * 3600 * 1000; // the audio is deleted on acknowledgement; the note after a week

let current = null; // {uuid, mime, durationS} of this item's recording once stopped
let playbackUrl = null;
let pollTimer = null;

const uploader = new Uploader({ onState: showUploadState });
const recorder = new Recorder({ onLevel: showLevel, onSilence: (silent) => { $("silence").hidden = !silent; }, onTick: showTime });
const shell = new TaskShell({ onAssignment: resetForItem, canLeave: () => recorder.state !== "recording" });

function formatTime(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function setupWindow() {
  $("min-s").textContent = `${Math.round(project.min_duration_s)} s`;
  $("target-s").textContent = `${Math.round(project.target_duration_s)} s`;
  const span = windowSpan();
  $("mark-min").style.left = `${(100 * project.min_duration_s) / span}%`;
  $("mark-target").style.left = `${(100 * project.target_duration_s) / span}%`;
  $("mark-min").title = `minimum ${formatTime(project.min_duration_s)}`;
  $("mark-target").title = `target ${formatTime(project.target_duration_s)}`;
}

function windowSpan() {
  return Math.max(project.target_duration_s * 1.25, project.min_duration_s * 1.25, 1);
}

function showTime(seconds) {
  $("timer").textContent = formatTime(seconds);
  const fill = $("window-fill");
  fill.style.width = `${Math.min(100, (100 * seconds) / windowSpan())}%`;
  fill.dataset.zone = seconds < project.min_duration_s ? "short" : seconds < project.target_duration_s ? "ok" : "target";
  if (recorder.state === "recording" && seconds >= project.max_duration_s) stopRecording();
  updateSubmit(seconds);
}

function showLevel(db) {
  $("meter-fill").style.width = `${Math.max(0, Math.min(100, ((db + 60) / 60) * 100))}%`;
}

function updateSubmit(seconds = current?.durationS || 0) {
  const long = seconds >= project.min_duration_s;
  $("submit").disabled = !current || !long || recorder.state === "recording";
  $("submit-hint").textContent = recorder.state === "recording" || current
    ? (long ? "" : `Keep going: at least ${formatTime(project.min_duration_s)} is needed.`) : "";
}

async function resetForItem() {
  clearTimeout(pollTimer);
  current = null;
  setPlayback(null);
  $("result").hidden = true;
  $("stored-audio").removeAttribute("src");
  $("recorder").hidden = false;
  $("upload").hidden = true;
  $("record").hidden = false;
  $("record").disabled = false;
  $("stop").hidden = true;
  $("rerecord").hidden = true;
  showTime(0);
  updateSubmit(0);
  await listUnsent();
}

async function startRecording() {
  if (recorder.state !== "idle" && recorder.state !== "stopped") return;
  if (current && uploader.isSending(current.uuid)) return; // a submitted take is never discarded
  if (current) await recordingDelete(current.uuid); // "record again" discards the unsent take
  current = null;
  setPlayback(null);
  try {
    await recorder.start({ uuid: newUuid(), assignmentId: shell.assignment.id, projectId: project.id });
  } catch (error) {
    status(`The microphone could not be opened: ${error.message}`, "error");
    return;
  }
  status("Recording… describe the image.");
  $("record").hidden = true;
  $("rerecord").hidden = true;
  $("stop").hidden = false;
  updateSubmit(0);
}

async function stopRecording() {
  if (recorder.state !== "recording") return;
  $("stop").disabled = true;
  current = await recorder.stop();
  $("stop").disabled = false;
  $("stop").hidden = true;
  $("rerecord").hidden = false;
  showTime(current.durationS);
  setPlayback(await recordingBlob(current.uuid, current.mime));
  status(current.durationS >= project.min_duration_s
    ? "Listen back if you like, then submit."
    : `That was ${formatTime(current.durationS)}; record again and speak for at least ${formatTime(project.min_duration_s)}.`);
  updateSubmit();
}

function setPlayback(blob) {
  if (playbackUrl) URL.revokeObjectURL(playbackUrl);
  playbackUrl = blob ? URL.createObjectURL(blob) : null;
  const audio = $("playback");
  audio.hidden = !blob;
  if (blob) audio.src = playbackUrl;
  else audio.removeAttribute("src");
}

async function submit() {
  if ($("submit").disabled || !current) return;
  const { uuid } = current;
  $("submit").disabled = true;
  $("rerecord").hidden = true;
  try {
    const recording = await uploader.send(uuid);
    showResult(recording);
  } catch (error) {
    status(`The recording was not accepted: ${error.message}`, "error");
    $("rerecord").hidden = false;
  }
}

function showUploadState(uuid, state) {
  const offer = document.querySelector(`[data-unsent="${uuid}"] .offer-state`);
  if (offer) offer.textContent = describeUpload(state);
  if (state.phase === "sent") document.querySelector(`[data-unsent="${uuid}"]`)?.remove();
  $("unsent").hidden = !$("unsent-list").children.length;
  if (current?.uuid !== uuid) return;
  $("upload").hidden = false;
  $("upload-progress").value = state.progress ?? 0;
  $("upload-state").textContent = describeUpload(state);
  $("upload-retry").hidden = !(state.phase === "waiting" || state.phase === "signed-out");
  $("relogin").hidden = state.phase !== "signed-out";
}

function describeUpload({ phase, progress = 0, attempt, waitS, message }) {
  if (phase === "uploading") return `Uploading… ${Math.round(progress * 100)}%${attempt > 1 ? ` (attempt ${attempt})` : ""}`;
  if (phase === "sent") return "Sent.";
  if (phase === "waiting") return `Not sent (${message}); trying again in ${Math.ceil(waitS)} s. Your recording is kept.`;
  if (phase === "signed-out") return "Waiting for you to sign in again; your recording is kept.";
  if (phase === "failed") return `Refused: ${message}`;
  return "";
}

function showResult(recording) {
  if (!shell.assignment || recording.assignment !== shell.assignment.id) {
    status(`An earlier recording (${formatTime(recording.client_duration_s || 0)}) was sent.`, "ok");
    return;
  }
  current = null;
  setPlayback(null);
  $("recorder").hidden = true;
  $("result").hidden = false;
  $("result").dataset.recording = recording.id;
  $("result-summary").textContent = `Recording ${recording.id} is stored safely on the server.`;
  $("stored-audio").src = recording.audio_url; // the server's copy states its length
  $("stored-audio").hidden = false;
  status("Thank you! Your recording is stored.", "ok");
  showPipeline(recording);
  pollResult(recording.id, Date.now());
}

function showPipeline(recording) {
  $("result").dataset.state = recording.status;
  const transcript = $("transcript");
  if (recording.transcript) {
    transcript.textContent = recording.transcript;
    transcript.classList.remove("muted");
  } else {
    transcript.textContent = recording.status === "failed"
      ? `Speech recognition failed: ${recording.failure_reason}` : "Waiting for speech recognition…";
  }
  const caption = $("caption");
  if (recording.caption) {
    caption.textContent = recording.caption.text;
    caption.classList.remove("muted");
  } else if (recording.status === "failed") {
    caption.textContent = "No caption: the recording needs a reviewer's look.";
  }
  const note = $("caption-note");
  note.textContent = recording.caption ? captionNote(recording.caption) : "";
  note.dataset.source = recording.caption?.source || "";
  note.hidden = !note.textContent;
}

// What the refinement guards found in the language model's rewrite (the caption's "guard:" flags).
const GUARD_FINDINGS = {
  "guard:empty": "it was empty",
  "guard:too_short": "it left out too much of what you said",
  "guard:too_long": "it was much longer than what you said",
  "guard:invented_words": "it used words you did not say",
  "guard:invented_ratio": "it used words you did not say",
};

// Where the caption's text came from, in words.
function captionNote({ source, flags = [] }) {
  if (source === "llm") return "The language model rewrote your transcript into this caption, and the rewrite passed its checks against what you said.";
  if (source === "edit") return "A reviewer edited this caption.";
  if (source !== "cleanup") return "";
  const tidied = "This caption is your transcript tidied up (fillers, repeats and false starts removed)";
  if (flags.includes("llm_error")) return `${tidied}; the language model gave no rewrite (its request failed).`;
  const findings = [...new Set(flags.map((flag) => GUARD_FINDINGS[flag]).filter(Boolean))];
  if (!findings.length) return `${tidied}.`;
  const listed = findings.length > 1 ? `${findings.slice(0, -1).join(", ")} and ${findings.at(-1)}` : findings[0];
  return `${tidied}; the language model's rewrite did not pass its checks: ${listed}. A reviewer will look at both.`;
}

function pollResult(recordingId, since) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(async () => {
    if ($("result").dataset.recording !== String(recordingId)) return;
    try {
      const recording = await api(`/api/recordings/${recordingId}/`);
      showPipeline(recording);
      if (recording.caption || recording.status === "failed") return;
    } catch { /* keep polling: the recording is safe either way */ }
    if (Date.now() - since < RESULT_POLL_LIMIT_MS) pollResult(recordingId, since);
  }, RESULT_POLL_MS);
}

async function listUnsent() {
  const all = await recordingsAll();
  const stale = all.filter((meta) => meta.state === "sent" && Date.now() - meta.sentAt > SENT_NOTE_KEEP_MS);
  await Promise.all(stale.map((meta) => recordingDelete(meta.uuid)));
  const list = $("unsent-list");
  list.replaceChildren();
  const unsent = all.filter((meta) => meta.state !== "sent" && meta.uuid !== current?.uuid
    && !(recorder.state === "recording" && meta.uuid === recorder.uuid));
  for (const meta of unsent.sort((a, b) => a.createdAt - b.createdAt)) list.append(unsentRow(meta));
  $("unsent").hidden = !unsent.length;
}

function unsentRow(meta) {
  const row = document.createElement("li");
  row.dataset.unsent = meta.uuid;
  const text = document.createElement("span");
  const when = new Date(meta.createdAt).toLocaleString();
  text.textContent = `Item ${meta.assignmentId} · ${formatTime(meta.durationS || 0)} · recorded ${when}`
    + (meta.state === "recording" ? " (cut off)" : "");
  const play = document.createElement("button");
  play.type = "button";
  play.className = "secondary";
  play.textContent = "Play";
  play.addEventListener("click", async () => {
    const audio = new Audio(URL.createObjectURL(await recordingBlob(meta.uuid, meta.mime)));
    knowLength(audio);
    audio.play();
  });
  const send = document.createElement("button");
  send.type = "button";
  send.textContent = "Upload";
  send.className = "upload-unsent";
  send.addEventListener("click", async () => {
    send.disabled = true;
    try {
      showResult(await uploader.send(meta.uuid));
    } catch (error) {
      send.disabled = false;
    }
  });
  // A recording the server refuses (its item was skipped, say) can be saved as a file, then discarded.
  const save = document.createElement("button");
  save.type = "button";
  save.className = "secondary";
  save.textContent = "Save a copy";
  save.addEventListener("click", async () => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await recordingBlob(meta.uuid, meta.mime));
    link.download = `recording-${meta.uuid}.${meta.mime.includes("mp4") ? "m4a" : meta.mime.includes("ogg") ? "ogg" : "webm"}`;
    link.click();
  });
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "secondary";
  discard.textContent = "Discard";
  discard.addEventListener("click", async () => {
    if (!window.confirm("Delete this recording from this computer? It has not reached the server.")) return;
    await recordingDelete(meta.uuid);
    row.remove();
    $("unsent").hidden = !$("unsent-list").children.length;
  });
  const state = document.createElement("span");
  state.className = "offer-state muted";
  state.textContent = meta.lastError ? `Last refused: ${meta.lastError}` : "";
  row.append(text, " ", play, " ", send, " ", save, " ", discard, " ", state);
  return row;
}

function onKey(event) {
  if (isTyping(event) || event.ctrlKey || event.metaKey || event.altKey || $("workspace").hidden) return;
  if (shell.viewer.handleZoomKey(event.key)) event.preventDefault();
  else if (event.key === "r" || event.key === "R") {
    if (!$("recorder").hidden) recorder.state === "recording" ? stopRecording() : startRecording();
  } else if (event.key === "p" || event.key === "P") {
    const audio = $("playback");
    if (!audio.hidden) audio.paused ? audio.play() : audio.pause();
  } else if (event.key === "Enter") submit();
  else return;
  event.preventDefault();
}

$("record").addEventListener("click", startRecording);
$("rerecord").addEventListener("click", startRecording);
$("stop").addEventListener("click", stopRecording);
$("submit").addEventListener("click", submit);
$("upload-retry").addEventListener("click", () => uploader.retryNow());
$("next").addEventListener("click", () => shell.next());
document.addEventListener("keydown", onKey);
window.addEventListener("online", () => uploader.retryNow());
window.addEventListener("focus", () => uploader.retryNow()); // back from signing in in another tab
window.addEventListener("beforeunload", (event) => {
  if (recorder.state === "recording") event.preventDefault(); // the chunks so far are kept regardless
});
knowLength($("playback"));
setupWindow();
shell.next();
