// Reads the points a model wrote into its answer: <point x="" y="" alt="">label</point> and
// <points x1="" y1="" x2="" y2="" … alt="">label</points>, coordinates in 0–100 percent.
// The same reading as pixmo_formats/points.py; both are tested on pixmo_formats/vectors/point_text.json.
// Returns text pieces and point groups; the caller renders both as text, never as HTML.

const TAG = /<(points?)\b([^>]*)>([\s\S]*?)<\/\1>/g;
const ATTRIBUTE = /([A-Za-z_][\w-]*)[ \t\r\n]*=[ \t\r\n]*"([^"]*)"/g;
const COORDINATE_NAME = /^([xy])(\d*)$/;
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)$/;

// Every piece of `text`: {text} between tags, and for each complete tag {text, tag, alt, label,
// points, malformed}: its words, "point" or "points", its alt (null if none), the alt or else its
// words, its complete (x, y) pairs in index order as written, and whether a coordinate was bad.
export function parsePointTags(text) {
  const pieces = [];
  let last = 0;
  for (const match of text.matchAll(TAG)) {
    if (match.index > last) pieces.push({ text: text.slice(last, match.index) });
    const attributes = [...match[2].matchAll(ATTRIBUTE)].map((m) => [m[1], m[2]]);
    const alts = attributes.filter(([name]) => name === "alt");
    const alt = alts.length ? alts[alts.length - 1][1] : null;
    pieces.push({ text: match[3], tag: match[1], alt, label: alt ?? match[3], ...coordinates(attributes) });
    last = match.index + match[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}

// The pieces to draw: as parsePointTags, keeping only the points that lie on the image (0–100).
export function parsePointText(text) {
  return parsePointTags(text).map(
    (piece) => (piece.points ? { ...piece, points: piece.points.filter(onImage) } : piece),
  );
}

const onImage = (point) => point.x >= 0 && point.x <= 100 && point.y >= 0 && point.y <= 100;

// x/y is the same as x1/y1; an index without both axes, or a value that is not a plain decimal
// number, makes the tag malformed (its other pairs still count).
function coordinates(attributes) {
  const found = new Map();
  for (const [name, value] of attributes) {
    const match = COORDINATE_NAME.exec(name);
    if (!match) continue;
    const index = parseInt(match[2] || "1", 10);
    if (!found.has(index)) found.set(index, {});
    found.get(index)[match[1]] = value;
  }
  const points = [];
  let malformed = false;
  for (const index of [...found.keys()].sort((a, b) => a - b)) {
    const axes = found.get(index);
    if (!("x" in axes && "y" in axes) || !NUMBER.test(axes.x) || !NUMBER.test(axes.y)) {
      malformed = true;
      continue;
    }
    points.push({ x: Number(axes.x), y: Number(axes.y) });
  }
  return { points, malformed };
}
