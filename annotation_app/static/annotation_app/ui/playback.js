// Audio players that know their length. Chromium's MediaRecorder writes WebM with no duration in
// its header, so a player of the take just recorded shows no total and its scrubber jumps. When a
// player's length is unknown, this seeks it past the end once: Chromium then reads the file to its
// last frame, learns the duration, and the player is put back at the start. Stored recordings get
// a copy whose header states the length on the server, so this is only needed for local takes.

const PAST_THE_END = 1e101;

export function knowLength(audio) {
  if (audio.dataset.knowLength) return;
  audio.dataset.knowLength = "1";
  audio.addEventListener("loadedmetadata", () => {
    if (Number.isFinite(audio.duration)) return;
    audio.dataset.measuring = "1";
    audio.currentTime = PAST_THE_END;
  });
  audio.addEventListener("durationchange", () => {
    if (!audio.dataset.measuring || !Number.isFinite(audio.duration)) return;
    delete audio.dataset.measuring;
    audio.currentTime = 0;
  });
}
