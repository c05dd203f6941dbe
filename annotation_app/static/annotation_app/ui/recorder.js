// The microphone: MediaRecorder writes a chunk to IndexedDB every second; a level meter
// watches for silence. Stopping keeps recording for a short tail so the last word is not cut.

import { chunkPut, recordingPut, recordingUpdate } from "./store.js";

const CHUNK_MS = 1000;
const TAIL_MS = 500;
const SILENCE_DB = -50; // dBFS below which the input counts as silent
const SILENCE_WARN_MS = 4000;

export function pickMime() {
  const candidates = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4;codecs=mp4a.40.2", "audio/mp4", "audio/ogg;codecs=opus"];
  return candidates.find((type) => window.MediaRecorder?.isTypeSupported?.(type)) || "";
}

export class Recorder {
  constructor({ onLevel, onSilence, onTick }) {
    Object.assign(this, { onLevel, onSilence, onTick });
    this.state = "idle";
  }

  async start({ uuid, assignmentId, projectId }) {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: true },
    });
    const mime = pickMime();
    this.recorder = new MediaRecorder(this.stream, mime ? { mimeType: mime } : undefined);
    this.uuid = uuid;
    this.mime = this.recorder.mimeType || mime || "audio/webm";
    this.seq = 0;
    this.writes = [];
    await recordingPut({
      uuid, assignmentId, projectId, mime: this.mime, durationS: 0, state: "recording", createdAt: Date.now(),
    });
    this.recorder.ondataavailable = (event) => {
      if (event.data.size) this.writes.push(chunkPut(uuid, this.seq++, event.data));
    };
    this.stopped = new Promise((resolve) => { this.recorder.onstop = resolve; });
    this.recorder.start(CHUNK_MS);
    this.startedAt = performance.now();
    this.state = "recording";
    this.#watchLevel();
    this.ticker = setInterval(() => this.#tick(), 200);
  }

  get elapsedS() {
    return this.state === "recording" ? (performance.now() - this.startedAt) / 1000 : this.durationS || 0;
  }

  async stop() {
    if (this.state !== "recording") return null;
    this.state = "stopping";
    await new Promise((resolve) => setTimeout(resolve, TAIL_MS));
    this.recorder.stop();
    await this.stopped;
    await Promise.all(this.writes);
    this.durationS = (performance.now() - this.startedAt) / 1000;
    clearInterval(this.ticker);
    this.#release();
    this.state = "stopped";
    await recordingUpdate(this.uuid, { state: "recorded", durationS: this.durationS, chunks: this.seq });
    return { uuid: this.uuid, mime: this.mime, durationS: this.durationS };
  }

  #tick() {
    if (this.state !== "recording") return;
    this.onTick?.(this.elapsedS);
    // Keep the duration in storage current, so a recording cut off by a crash knows its length.
    recordingUpdate(this.uuid, { durationS: this.elapsedS }).catch(() => {});
  }

  #watchLevel() {
    this.audio = new AudioContext();
    const source = this.audio.createMediaStreamSource(this.stream);
    const analyser = this.audio.createAnalyser();
    analyser.fftSize = 2048;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let silentSince = performance.now();
    let warned = false;
    const measure = () => {
      if (this.state !== "recording" && this.state !== "stopping") return;
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const value of samples) sum += value * value;
      const db = 10 * Math.log10(sum / samples.length + 1e-12);
      this.onLevel?.(db);
      const now = performance.now();
      if (db > SILENCE_DB) silentSince = now;
      const silent = now - silentSince > SILENCE_WARN_MS;
      if (silent !== warned) this.onSilence?.((warned = silent));
      this.levelTimer = setTimeout(measure, 50);
    };
    measure();
  }

  #release() {
    clearTimeout(this.levelTimer);
    this.stream?.getTracks().forEach((track) => track.stop());
    this.audio?.close().catch(() => {});
    this.onLevel?.(-100);
    this.onSilence?.(false);
  }
}
