// Talking to the REST API: session cookie + CSRF header, JSON in and out, one error type.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `request failed (${status})`);
    this.status = status;
  }
  // 0: the network failed; 5xx, 408, 429: the server may succeed later.
  get retryable() {
    return this.status === 0 || this.status >= 500 || this.status === 408 || this.status === 429 || this.sessionEnded;
  }
  // Django answers 403 to a request whose session (and so its CSRF token) has gone.
  get sessionEnded() {
    return this.status === 401 || (this.status === 403 && /credentials|CSRF/i.test(this.message));
  }
}

export function csrfToken() {
  // Read on every request: signing in again rotates the token.
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function api(url, { method = "GET", json } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method, headers, credentials: "same-origin", body: json === undefined ? undefined : JSON.stringify(json),
    });
  } catch (error) {
    throw new ApiError(0, "the network is unreachable");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, errorDetail(data, response.status));
  return data;
}

export function errorDetail(data, status) {
  if (data && typeof data.detail === "string") return data.detail;
  if (data && typeof data === "object") {
    return Object.entries(data).map(([key, value]) => `${key}: ${[].concat(value).join(" ")}`).join("; ");
  }
  return `the server answered ${status}`;
}

// Multipart upload with progress (fetch cannot report upload progress); resolves {status, data}.
export function uploadForm(url, form, { onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress?.(event.loaded / event.total);
    xhr.onerror = () => reject(new ApiError(0, "the network is unreachable"));
    xhr.ontimeout = () => reject(new ApiError(0, "the upload timed out"));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* an HTML error page */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, data });
      else reject(new ApiError(xhr.status, errorDetail(data, xhr.status)));
    };
    xhr.timeout = 10 * 60 * 1000;
    xhr.send(form);
  });
}
