// What every task page shares: claim the next item, keep its lease alive, skip, report a problem,
// show the image, and say what is happening.

import { api, ApiError } from "./api.js";
import { ImageViewer } from "./viewer.js";

const HEARTBEAT_MS = 60 * 1000;

export const config = JSON.parse(document.getElementById("task-config").textContent);

const $ = (id) => document.getElementById(id);

export function status(text, kind = "info") {
  const element = $("status");
  element.textContent = text;
  element.dataset.kind = kind;
}

export function isTyping(event) {
  const target = event.target;
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

export class TaskShell {
  constructor({ onAssignment, canLeave = () => true }) {
    this.onAssignment = onAssignment;
    this.canLeave = canLeave;
    this.assignment = null;
    this.heartbeat = null;
    this.viewer = new ImageViewer({
      viewer: $("viewer"), stage: $("stage"), img: $("image"), overlay: $("overlay"), zoomLabel: $("zoom-level"),
    });
    $("skip").addEventListener("click", () => this.skip());
    $("report").addEventListener("click", () => this.#openReport());
    $("report-cancel").addEventListener("click", () => $("report-dialog").close());
    $("report-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.#sendReport();
    });
  }

  async next() {
    this.#setBusy(true);
    try {
      const assignment = await api(config.urls.next, { method: "POST" });
      await this.show(assignment);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.finished(error.message);
      else status(`Could not get the next image: ${error.message}`, "error");
    } finally {
      this.#setBusy(false);
    }
  }

  async show(assignment) {
    this.assignment = assignment;
    $("done").hidden = true;
    $("workspace").hidden = false;
    this.#showPosition(assignment);
    document.body.dataset.assignment = assignment.id;
    this.#startHeartbeat();
    const loaded = this.viewer.setImage(assignment.image.url, assignment.image.width, assignment.image.height);
    await this.onAssignment(assignment);
    await loaded.catch((error) => status(error.message, "error"));
  }

  // "item 3 of 40": the item's place among the project's items (the ids are global, so not shown).
  async #showPosition(assignment) {
    const label = $("item-label");
    label.textContent = "";
    try {
      const { position, total } = await api(`/api/assignments/${assignment.id}/position/`);
      if (this.assignment === assignment) label.textContent = `· item ${position} of ${total}`;
    } catch {
      label.textContent = ""; // the count is a courtesy; the task goes on without it
    }
  }

  finished(reason) {
    this.assignment = null;
    this.#stopHeartbeat();
    $("workspace").hidden = true;
    $("done").hidden = false;
    $("done-reason").textContent = reason;
    status("");
  }

  async skip() {
    if (!this.assignment || !this.canLeave()) return;
    try {
      await api(`/api/assignments/${this.assignment.id}/skip/`, { method: "POST" });
    } catch (error) {
      status(`Could not skip: ${error.message}`, "error");
      return;
    }
    await this.next();
    if (this.assignment) status("Skipped; here is another image.");
  }

  #openReport() {
    if (!this.assignment) return;
    $("report-reason").value = "";
    $("report-dialog").showModal();
  }

  async #sendReport() {
    const reason = $("report-reason").value.trim();
    if (!reason) return;
    $("report-dialog").close();
    try {
      await api(`/api/assignments/${this.assignment.id}/report/`, { method: "POST", json: { reason } });
      status("Thank you; the problem is reported. You may skip this image.", "ok");
    } catch (error) {
      status(`Could not send the report: ${error.message}`, "error");
    }
  }

  #setBusy(busy) {
    $("skip").disabled = busy;
    $("report").disabled = busy;
  }

  #startHeartbeat() {
    this.#stopHeartbeat();
    this.heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
  }

  #stopHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  async #beat() {
    if (!this.assignment || document.hidden) return; // a hidden tab is idle time, not work
    try {
      await api(`/api/assignments/${this.assignment.id}/heartbeat/`, { method: "POST" });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        this.#stopHeartbeat();
        status("The lease on this image has expired; your work will still be sent if you submit it.", "warn");
      }
    }
  }
}
