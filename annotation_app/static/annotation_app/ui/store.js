// IndexedDB keeps every recording, chunk by chunk as it is recorded, until the server has
// acknowledged it. A reload, a crash or a lost network loses nothing.
//
// recordings: {uuid, assignmentId, projectId, mime, durationS, state, createdAt, recordingId?}
//   state: "recording" (chunks still arriving, or the tab died mid-recording) → "recorded"
//          → "queued" (submitted, not yet acknowledged) → "sent" (the server has it)
// chunks: {uuid, seq, blob}, key [uuid, seq]

const DB_NAME = "pixmo-recordings";
const DB_VERSION = 1;

let opening = null;

function database() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("recordings", { keyPath: "uuid" });
      db.createObjectStore("chunks", { keyPath: ["uuid", "seq"] });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

async function run(stores, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(stores, mode);
    let result;
    Promise.resolve(work(tx)).then((value) => { result = value; }, reject);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("storage transaction aborted"));
  });
}

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

export function recordingPut(meta) {
  return run(["recordings"], "readwrite", (tx) => { tx.objectStore("recordings").put(meta); });
}

export function recordingGet(uuid) {
  return run(["recordings"], "readonly", (tx) => done(tx.objectStore("recordings").get(uuid)));
}

export async function recordingUpdate(uuid, changes) {
  return run(["recordings"], "readwrite", async (tx) => {
    const store = tx.objectStore("recordings");
    const meta = await done(store.get(uuid));
    if (meta) store.put({ ...meta, ...changes });
  });
}

export function recordingsAll() {
  return run(["recordings"], "readonly", (tx) => done(tx.objectStore("recordings").getAll()));
}

export function chunkPut(uuid, seq, blob) {
  return run(["chunks"], "readwrite", (tx) => { tx.objectStore("chunks").put({ uuid, seq, blob }); });
}

export async function recordingBlob(uuid, mime) {
  const chunks = await run(["chunks"], "readonly", (tx) =>
    done(tx.objectStore("chunks").getAll(IDBKeyRange.bound([uuid, 0], [uuid, Infinity]))));
  chunks.sort((a, b) => a.seq - b.seq);
  return new Blob(chunks.map((chunk) => chunk.blob), { type: mime });
}

// After the server's acknowledgement only: the audio goes, a small "sent" note stays.
export function recordingForgetAudio(uuid, changes) {
  return run(["recordings", "chunks"], "readwrite", async (tx) => {
    tx.objectStore("chunks").delete(IDBKeyRange.bound([uuid, 0], [uuid, Infinity]));
    const store = tx.objectStore("recordings");
    const meta = await done(store.get(uuid));
    if (meta) store.put({ ...meta, ...changes, state: "sent" });
  });
}

// Discarded by the annotator (re-record): never sent, so nothing to keep.
export function recordingDelete(uuid) {
  return run(["recordings", "chunks"], "readwrite", (tx) => {
    tx.objectStore("chunks").delete(IDBKeyRange.bound([uuid, 0], [uuid, Infinity]));
    tx.objectStore("recordings").delete(uuid);
  });
}
