// Reads the points a model wrote into its answer: <point x="" y="" alt="">label</point> and
// <points x1="" y1="" x2="" y2="" … alt="">label</points>, coordinates in 0–100 percent.
// Returns text pieces and point groups; the caller renders both as text, never as HTML.

const TAG = /<(points?)\b([^>]*)>([\s\S]*?)<\/\1>/g;
const ATTRIBUTE = /([A-Za-z_][\w-]*)\s*=\s*"([^"]*)"/g;

export function parsePointText(text) {
  const pieces = [];
  let last = 0;
  for (const match of text.matchAll(TAG)) {
    if (match.index > last) pieces.push({ text: text.slice(last, match.index) });
    const attributes = Object.fromEntries([...match[2].matchAll(ATTRIBUTE)].map((m) => [m[1], m[2]]));
    pieces.push({ text: match[3], label: attributes.alt ?? match[3], points: pointsOf(match[1], attributes) });
    last = match.index + match[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}

function pointsOf(tag, attributes) {
  const points = [];
  if (tag === "point") {
    points.push({ x: Number(attributes.x), y: Number(attributes.y) });
  } else {
    for (let index = 1; `x${index}` in attributes; index++) {
      points.push({ x: Number(attributes[`x${index}`]), y: Number(attributes[`y${index}`]) });
    }
  }
  return points.filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y)
    && point.x >= 0 && point.x <= 100 && point.y >= 0 && point.y <= 100);
}
