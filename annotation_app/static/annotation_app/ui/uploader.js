// Sends stored recordings until the server acknowledges them. Each upload carries the
// recording's client UUID, so a retry after a lost response returns the first stored recording
// instead of a second one. Network failures, server errors and an ended session are retried
// with exponential backoff; the audio stays in IndexedDB until the acknowledgement.

import { ApiError, uploadForm } from "./api.js";
import { recordingBlob, recordingForgetAudio, recordingGet, recordingUpdate } from "./store.js";

const MAX_BACKOFF_S = 30;
const EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a", "audio/aac": "aac", "audio/wav": "wav" };

export class Uploader {
  constructor({ onState }) {
    this.onState = onState; // (uuid, {phase, progress, attempt, message, waitS, recording})
    this.wakers = new Set();
    this.active = new Map();
  }

  // Resolves with the server's recording; rejects only on an error that a retry cannot fix.
  send(uuid) {
    if (!this.active.has(uuid)) {
      const attempt = this.#send(uuid).finally(() => this.active.delete(uuid));
      this.active.set(uuid, attempt);
    }
    return this.active.get(uuid);
  }

  isSending(uuid) {
    return this.active.has(uuid);
  }

  retryNow() {
    this.wakers.forEach((wake) => wake());
  }

  async #send(uuid) {
    const meta = await recordingGet(uuid);
    if (!meta) throw new Error("this recording is no longer stored in the browser");
    const blob = await recordingBlob(uuid, meta.mime);
    if (!blob.size) throw new Error("this recording has no audio");
    await recordingUpdate(uuid, { state: "queued" });
    const url = `/api/assignments/${meta.assignmentId}/recordings/`;
    for (let attempt = 1; ; attempt++) {
      this.onState(uuid, { phase: "uploading", progress: 0, attempt });
      try {
        const { data } = await uploadForm(url, this.#form(uuid, meta, blob), {
          onProgress: (progress) => this.onState(uuid, { phase: "uploading", progress, attempt }),
        });
        await recordingForgetAudio(uuid, { recordingId: data.id, sentAt: Date.now() });
        this.onState(uuid, { phase: "sent", progress: 1, attempt, recording: data });
        return data;
      } catch (error) {
        if (!(error instanceof ApiError) || !error.retryable) {
          await recordingUpdate(uuid, { state: "recorded", lastError: error.message });
          this.onState(uuid, { phase: "failed", attempt, message: error.message });
          throw error;
        }
        const waitS = Math.min(MAX_BACKOFF_S, 2 ** (attempt - 1)) * (0.8 + 0.4 * Math.random());
        this.onState(uuid, {
          phase: error.sessionEnded ? "signed-out" : "waiting", attempt, waitS, message: error.message,
        });
        await this.#sleep(waitS * 1000);
      }
    }
  }

  #form(uuid, meta, blob) {
    const form = new FormData();
    const extension = EXTENSIONS[meta.mime.split(";")[0]] || "webm";
    form.append("audio", blob, `${uuid}.${extension}`);
    form.append("client_uuid", uuid);
    form.append("client_duration_s", meta.durationS.toFixed(3));
    return form;
  }

  #sleep(ms) {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
