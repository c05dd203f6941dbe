// A zoomable, pannable image with an SVG overlay in the image's own pixel coordinates.
// Screen → image: x_px = (clientX − viewer.left − tx) / scale, so a click maps to the original
// image's pixels whatever the zoom.

const SVG_NS = "http://www.w3.org/2000/svg";
const DRAG_THRESHOLD_PX = 4;
const MIN_ZOOM = 0.5; // relative to "fit"
const MAX_ZOOM = 16;

export class ImageViewer {
  constructor({ viewer, stage, img, overlay, zoomLabel }) {
    Object.assign(this, { viewer, stage, img, overlay, zoomLabel });
    this.width = 1;
    this.height = 1;
    this.scale = 1;
    this.fitScale = 1;
    this.tx = 0;
    this.ty = 0;
    this.onClick = null; // (x_px, y_px, event) on a click that was not a drag
    this.onTransform = null; // () after every zoom or pan
    this.#listen();
  }

  setImage(url, width, height) {
    this.width = width;
    this.height = height;
    this.img.width = width;
    this.img.height = height;
    this.overlay.setAttribute("width", width);
    this.overlay.setAttribute("height", height);
    this.overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.overlay.replaceChildren();
    this.stage.style.width = `${width}px`;
    this.stage.style.height = `${height}px`;
    const loaded = new Promise((resolve, reject) => {
      this.img.onload = resolve;
      this.img.onerror = () => reject(new Error("the image could not be loaded"));
    });
    this.img.src = url;
    this.fit();
    return loaded;
  }

  fit() {
    const { clientWidth: vw, clientHeight: vh } = this.viewer;
    this.fitScale = Math.min(vw / this.width, vh / this.height) || 1;
    this.scale = this.fitScale;
    this.tx = (vw - this.width * this.scale) / 2;
    this.ty = (vh - this.height * this.scale) / 2;
    this.#apply();
  }

  zoomBy(factor, cx = this.viewer.clientWidth / 2, cy = this.viewer.clientHeight / 2) {
    const next = Math.min(Math.max(this.scale * factor, this.fitScale * MIN_ZOOM), this.fitScale * MAX_ZOOM);
    const ratio = next / this.scale;
    this.tx = cx - (cx - this.tx) * ratio;
    this.ty = cy - (cy - this.ty) * ratio;
    this.scale = next;
    this.#apply();
  }

  panBy(dx, dy) {
    this.tx += dx;
    this.ty += dy;
    this.#apply();
  }

  toImage(clientX, clientY) {
    const rect = this.viewer.getBoundingClientRect();
    return { x: (clientX - rect.left - this.tx) / this.scale, y: (clientY - rect.top - this.ty) / this.scale };
  }

  contains({ x, y }) {
    return x >= 0 && y >= 0 && x <= this.width && y <= this.height;
  }

  // A marker's screen size stays the same at every zoom.
  get unit() {
    return 1 / this.scale;
  }

  svg(tag, attributes = {}) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    return element;
  }

  handleZoomKey(key) {
    if (key === "+" || key === "=") this.zoomBy(1.25);
    else if (key === "-" || key === "_") this.zoomBy(0.8);
    else if (key === "0") this.fit();
    else if (key === "ArrowLeft") this.panBy(60, 0);
    else if (key === "ArrowRight") this.panBy(-60, 0);
    else if (key === "ArrowUp") this.panBy(0, 60);
    else if (key === "ArrowDown") this.panBy(0, -60);
    else return false;
    return true;
  }

  #apply() {
    this.stage.style.transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.scale})`;
    if (this.zoomLabel) this.zoomLabel.textContent = `${Math.round((100 * this.scale) / this.fitScale)}%`;
    this.onTransform?.();
  }

  #listen() {
    this.viewer.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = this.viewer.getBoundingClientRect();
      this.zoomBy(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - rect.left, event.clientY - rect.top);
    }, { passive: false });
    let press = null;
    this.viewer.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || event.target.closest("[data-handle]")) return;
      press = { x: event.clientX, y: event.clientY, tx: this.tx, ty: this.ty, panning: false, id: event.pointerId };
    });
    this.viewer.addEventListener("pointermove", (event) => {
      if (!press || event.pointerId !== press.id) return;
      const dx = event.clientX - press.x;
      const dy = event.clientY - press.y;
      if (!press.panning && Math.hypot(dx, dy) > DRAG_THRESHOLD_PX) {
        press.panning = true;
        this.viewer.setPointerCapture(event.pointerId);
        this.viewer.classList.add("panning");
      }
      if (press.panning) {
        this.tx = press.tx + dx;
        this.ty = press.ty + dy;
        this.#apply();
      }
    });
    const release = (event) => {
      if (!press || event.pointerId !== press.id) return;
      const wasPan = press.panning;
      press = null;
      this.viewer.classList.remove("panning");
      if (!wasPan && event.type === "pointerup" && this.onClick) {
        const point = this.toImage(event.clientX, event.clientY);
        if (this.contains(point)) this.onClick(point.x, point.y, event);
      }
    };
    this.viewer.addEventListener("pointerup", release);
    this.viewer.addEventListener("pointercancel", release);
    document.querySelectorAll("[data-zoom]").forEach((button) => button.addEventListener("click", () => {
      const action = button.dataset.zoom;
      if (action === "in") this.zoomBy(1.25);
      else if (action === "out") this.zoomBy(0.8);
      else this.fit();
    }));
    new ResizeObserver(() => this.fit()).observe(this.viewer);
  }
}
