// The minimap: every step as a small box on one <canvas>, and the part of the flow in view.
// One drawing per change, at most one a frame: a thousand steps cost a few milliseconds, where a
// component (an SVG element) per step took hundreds of milliseconds to mount on a large flow.
// Click or drag on it to move the view there; the wheel zooms.
import { toRaw } from "vue";

const SIZE = { width: 180, height: 120 }; // CSS pixels, as flow_canvas.css draws its frame
const UNMEASURED = { width: 210, height: 100 }; // a step never on screen has no measured size yet
const MASK = "rgba(96, 125, 139, 0.18)";
const VIEW_EDGE = "#607d8b";
const ZOOM_STEP = 1.2;
const LATER = 250; // ms: how long red dots may lag behind the badges (typing is not slowed by redrawing)

export default {
  props: {
    flow: Object, // the canvas's Vue Flow store (useVueFlow)
    colourOf: Function, // node -> CSS colour of its box
  },
  emits: ["moved"],
  data() {
    return { steps: 0 };
  },
  mounted() {
    this.frame = 0;
    this.dragging = false;
    const { viewport, dimensions } = this.flow;
    this.stopWatch = this.$watch(
      () => [viewport.value.x, viewport.value.y, viewport.value.zoom, dimensions.value.width, dimensions.value.height],
      () => this.soon(),
    );
    this.stopChanges = this.flow.onNodesChange(() => this.soon()).off; // drags, selection, sizes measured
    this.soon();
  },
  unmounted() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.stopWatch();
    this.stopChanges?.();
  },
  methods: {
    soon() {
      // what changed is drawn with the next frame, however many changes come before it
      if (!this.frame) this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    },
    later() {
      // a redraw that may wait until typing pauses (a badge changed): one draw for a burst of changes
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.soon(), LATER);
    },
    view() {
      // the part of the flow in view, in flow coordinates
      const { x, y, zoom } = this.flow.viewport.value;
      const { width, height } = this.flow.dimensions.value;
      return { x: -x / zoom, y: -y / zoom, width: width / zoom, height: height / zoom };
    },
    fit(boxes, view) {
      // flow coordinates -> minimap pixels: every step and the view, centred
      let left = view.x, top = view.y, right = view.x + view.width, bottom = view.y + view.height;
      for (const b of boxes) {
        if (b.x < left) left = b.x;
        if (b.y < top) top = b.y;
        if (b.x + b.width > right) right = b.x + b.width;
        if (b.y + b.height > bottom) bottom = b.y + b.height;
      }
      const scale = Math.min(SIZE.width / (right - left || 1), SIZE.height / (bottom - top || 1));
      return {
        scale,
        x: left - (SIZE.width / scale - (right - left)) / 2,
        y: top - (SIZE.height / scale - (bottom - top)) / 2,
      };
    },
    draw() {
      const canvas = this.$refs.canvas;
      if (!canvas) return;
      const nodes = toRaw(this.flow.nodes.value); // read, not tracked: nothing re-renders because of it
      const boxes = nodes.map((n) => {
        const raw = toRaw(n);
        const d = raw.dimensions;
        return {
          node: raw, x: raw.computedPosition.x, y: raw.computedPosition.y,
          width: d && d.width ? d.width : UNMEASURED.width, height: d && d.height ? d.height : UNMEASURED.height,
        };
      });
      const view = this.view();
      if (!this.dragging || !this.map) this.map = this.fit(boxes, view); // held still while dragged
      const { scale, x, y } = this.map;
      const ratio = window.devicePixelRatio || 1;
      if (canvas.width !== SIZE.width * ratio) {
        canvas.width = SIZE.width * ratio;
        canvas.height = SIZE.height * ratio;
      }
      const ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, SIZE.width, SIZE.height);
      const byColour = new Map(); // one path per colour: a handful of fills, whatever the number of steps
      for (const b of boxes) {
        const colour = this.colourOf(b.node);
        if (!byColour.has(colour)) byColour.set(colour, new Path2D());
        // whole pixels, at least one: a step of a large flow stays a crisp dot, never a blur
        byColour.get(colour).rect(Math.floor((b.x - x) * scale), Math.floor((b.y - y) * scale),
                                  Math.max(Math.round(b.width * scale), 1), Math.max(Math.round(b.height * scale), 1));
      }
      for (const [colour, path] of byColour) {
        ctx.fillStyle = colour;
        ctx.fill(path);
      }
      const vx = (view.x - x) * scale, vy = (view.y - y) * scale;
      const vw = view.width * scale, vh = view.height * scale;
      ctx.beginPath(); // everything outside the view, greyed
      ctx.rect(0, 0, SIZE.width, SIZE.height);
      ctx.rect(vx, vy, vw, vh);
      ctx.fillStyle = MASK;
      ctx.fill("evenodd");
      ctx.strokeStyle = VIEW_EDGE;
      ctx.lineWidth = 1;
      ctx.strokeRect(vx + 0.5, vy + 0.5, vw - 1, vh - 1);
      if (this.steps !== boxes.length) this.steps = boxes.length; // data-steps: what the tests read
    },
    moveTo(e) {
      // centre the view on the flow point under the pointer, at the same zoom
      if (!this.map) return;
      const fx = e.offsetX / this.map.scale + this.map.x; // offsetX/Y: from the drawing's own corner
      const fy = e.offsetY / this.map.scale + this.map.y;
      const { zoom } = this.flow.viewport.value;
      const { width, height } = this.flow.dimensions.value;
      this.flow.setViewport({ x: width / 2 - fx * zoom, y: height / 2 - fy * zoom, zoom });
      this.$emit("moved");
    },
    onDown(e) {
      this.dragging = true;
      this.$refs.canvas.setPointerCapture(e.pointerId);
      this.moveTo(e);
    },
    onMove(e) {
      if (this.dragging) this.moveTo(e);
    },
    onUp(e) {
      this.dragging = false;
      if (this.$refs.canvas.hasPointerCapture(e.pointerId)) this.$refs.canvas.releasePointerCapture(e.pointerId);
      this.soon(); // fitted again to where the view is now
    },
    onWheel(e) {
      const { zoom } = this.flow.viewport.value;
      this.flow.zoomTo(e.deltaY < 0 ? zoom * ZOOM_STEP : zoom / ZOOM_STEP);
      this.$emit("moved");
    },
  },
  template: `
    <canvas ref="canvas" class="fc-minimap" :data-steps="steps" role="img"
            aria-label="Minimap: click or drag to move the view, scroll to zoom"
            @pointerdown.stop.prevent="onDown" @pointermove="onMove" @pointerup="onUp" @pointercancel="onUp"
            @wheel.stop.prevent="onWheel"></canvas>`,
};
