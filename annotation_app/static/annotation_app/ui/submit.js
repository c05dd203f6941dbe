// Submissions other than audio: JSON carrying a client UUID, retried with backoff while the
// network or the server fails; the server returns the first result for a repeated UUID.

import { api, ApiError } from "./api.js";
import { status } from "./task.js";

const MAX_BACKOFF_S = 30;

export async function submitWithRetry(url, json, { what = "your answer" } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api(url, { method: "POST", json });
    } catch (error) {
      if (!(error instanceof ApiError) || !error.retryable) throw error;
      const waitS = Math.min(MAX_BACKOFF_S, 2 ** (attempt - 1));
      status(error.sessionEnded
        ? `Your session has ended: sign in again in another tab; ${what} is kept and sent when you are back.`
        : `Could not send ${what} (${error.message}); trying again in ${waitS} s.`, "warn");
      await new Promise((resolve) => setTimeout(resolve, waitS * 1000));
    }
  }
}
