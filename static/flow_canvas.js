// The flow canvas: Vue Flow inside a NiceGUI element (see designer/ui/canvas.py).
// Python owns the graph; this draws what it is given and reports what the user does.
import { inject, markRaw, nextTick, provide, reactive, toRaw, watch } from "vue";

// Vue Flow's unbundled build reads process.env.NODE_ENV; define it before the module loads.
globalThis.process ??= { env: { NODE_ENV: "production" } };
// both at once (the page's head has asked for them already: canvas.py CANVAS_MODULES)
const [{ VueFlow, Handle, Panel, Position, MarkerType, ConnectionMode, useVueFlow, getRectOfNodes }, { default: FlowMiniMap }] =
  await Promise.all([import("vue-flow-dist/vue-flow-core.mjs"), import("flexml-static/flow_minimap.js")]);

const READABLE_ZOOM = 0.6; // below this a step's text cannot be read: Fit never goes lower
const FOCUS_ZOOM = 0.9; // the zoom a step found by search is shown at (unless already closer)
const LARGE_FLOW = 300; // steps; more and the view jumps instead of gliding
const NEW_STEP = { width: 210, height: 100 }; // room a step dropped by a palette click needs

// its style sheets are linked in the page's head (canvas.py CANVAS_STYLES)

const STEP_MIME = "application/x-flexml-step";

function isTyping(target) {
  if (!target || !target.tagName) return false;
  const tag = target.tagName.toUpperCase();
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

const StepNode = {
  components: { Handle },
  props: ["id", "data", "selected"],
  setup() {
    return { marks: inject("flexmlMarks"), Position };
  },
  computed: {
    traffic() {
      return this.marks.traffic[this.id] || null;
    },
    badge() {
      const b = this.marks.badges[this.id];
      if (!b) return null;
      const level = b.errors ? "error" : "warning";
      return { level, count: b.errors || b.warnings, title: b.title };
    },
  },
  template: `
    <div class="fc-node" :class="{ 'fc-selected': selected, 'fc-highlight': marks.highlight[id],
                                    'fc-on-path': marks.path[id], 'fc-is-start': data.start,
                                    ['fc-type-' + data.type]: true }"
         :data-node="id">
      <Handle type="target" id="in" :position="Position.Left" class="fc-in" />
      <div class="fc-head">
        <i class="q-icon material-icons fc-icon" aria-hidden="true">{{ data.icon }}</i>
        <span class="fc-title">{{ data.label }}</span>
        <span v-if="badge" class="fc-badge" :class="'fc-badge-' + badge.level" :title="badge.title"
              :data-badge="badge.level">{{ badge.count }}</span>
      </div>
      <!-- always one line, empty or not: typing never changes a step's size (a large flow re-measures then) -->
      <div class="fc-snippet">{{ data.snippet }}</div>
      <div v-if="traffic" class="fc-traffic" :data-traffic="traffic.reached"
           :title="traffic.reached + ' reached, ' + traffic.ended + ' ended here'">
        <span class="fc-traffic-reached">{{ traffic.reached }} reached</span>
        <span v-if="traffic.ended" class="fc-traffic-ended">{{ traffic.ended }} ended</span>
      </div>
      <div class="fc-id">
        <span v-if="data.start" class="fc-start" title="Calls begin here">▶ start</span>
        <span>{{ id }}</span>
      </div>
      <Handle v-if="data.jump" type="source" id="jump" :position="Position.Right" :connectable="false"
              class="fc-handle-jump" />
      <div class="fc-outs" v-if="data.outputs.length">
        <div v-for="o in data.outputs" :key="o.id" class="fc-out" :data-output="o.id">
          <span class="fc-out-label">{{ o.label }}<b v-if="marks.edgeUse[id + '|' + o.id] !== undefined"
                class="fc-out-use"> · {{ marks.edgeUse[id + '|' + o.id] }}</b></span>
          <Handle type="source" :id="o.id" :position="Position.Right" class="fc-handle-out" />
        </div>
      </div>
    </div>`,
};

export default {
  components: { VueFlow, Panel, FlowMiniMap },
  props: { flowKey: String, initial: String, readonly: Boolean }, // initial: {nodes, edges, badges} as JSON
  emits: ["ready", "node-drop", "edge-added", "nodes-moved", "delete-selected", "selection-change",
          "copy", "paste", "undo", "redo"],
  setup(props, { emit }) {
    const flow = useVueFlow(props.flowKey);
    const marks = reactive({ badges: {}, highlight: {}, path: {}, traffic: {}, edgeUse: {}, start: null });
    provide("flexmlMarks", marks);
    const selectedKey = () =>
      JSON.stringify([flow.getSelectedNodes.value.map((n) => n.id), flow.getSelectedEdges.value.map((e) => e.id)]);
    let minimap = null; // the FlowMiniMap, once mounted
    const minimapSoon = () => minimap && minimap.soon(); // steps or the view moved: the next frame
    const minimapLater = () => minimap && minimap.later(); // only colours changed: once typing pauses
    const showJumps = () => {
      // a Go to's dashed jump line shows while the Go to (or the step it jumps to) is selected
      const chosen = new Set(flow.getSelectedNodes.value.map((n) => n.id));
      const edges = flow.edges.value;
      const raw = toRaw(edges); // looked through unproxied: this runs after every edit, on every edge
      for (let i = 0; i < raw.length; i++) {
        if (raw[i].sourceHandle !== "jump") continue;
        const show = chosen.has(raw[i].source) || chosen.has(raw[i].target);
        if (raw[i].hidden === show) edges[i].hidden = !show;
      }
    };
    watch(selectedKey, () => {
      showJumps();
      minimapSoon();
      emit("selection-change", {
        nodes: flow.getSelectedNodes.value.map((n) => n.id),
        edges: flow.getSelectedEdges.value.map((e) => e.data),
      });
    });
    return {
      flow,
      marks,
      showJumps,
      minimapSoon,
      minimapLater,
      setMinimap: (m) => (minimap = m),
      nodeTypes: { step: markRaw(StepNode) },
      connectionMode: ConnectionMode.Strict,
    };
  },
  data() {
    return { pointer: null };
  },
  computed: {
    noSteps() {
      // a computed true/false: this template (and Vue Flow in it, every step) is drawn again only when
      // the canvas becomes empty or stops being empty, not each time a step is added or removed
      return this.flow.nodes.value.length === 0;
    },
  },
  mounted() {
    this.onKey = (e) => this.handleKey(e);
    this.autoFit = false;
    this.resizer = new ResizeObserver(() => {
      if (this.autoFit && this.flow.nodes.value.length) requestAnimationFrame(() => this.fitReadable());
    });
    this.resizer.observe(this.$el);
    document.addEventListener("keydown", this.onKey);
    this.pendingFit = false;
    this.reserved = []; // spots of palette clicks not drawn yet: {x, y, until}
    performance.mark("fc-mounted");
    const first = this.initial ? JSON.parse(this.initial) : null; // plain objects: Vue Flow copies them fast
    if (first) {
      this.drawGraph(first.nodes, first.edges, true);
      this.setBadges(first.badges || {});
    }
    this.$emit("ready", { initial: !!first });
  },
  unmounted() {
    document.removeEventListener("keydown", this.onKey);
    this.resizer.disconnect();
  },
  methods: {
    // --- pushed from Python ---------------------------------------------------------------
    setGraph(nodes, edges, fit) {
      // everything drawn again (undo, a reload, or what was done before the page was connected): a patch too
      this.drawGraph(nodes, edges, fit, () => this.countPatch());
    },
    drawGraph(nodes, edges, fit, drawn = null) {
      this.flow.setEdges([]); // never, even for a moment, an edge whose step is gone
      this.marks.start = null;
      this.markStart(nodes);
      this.flow.setNodes(nodes);
      this.flow.setEdges(edges.map((e) => this.edgeStyle(e)));
      for (const e of this.flow.edges.value) this.styleUse(e);
      this.showJumps();
      this.repaintPath();
      if (fit && nodes.length) this.fitWhenSized();
      this.whenDrawn(() => {
        this.$el.dataset.ready = String(nodes.length);
        performance.mark("fc-drawn"); // the steps on screen are drawn and measured (the benchmark reads it)
        if (drawn) drawn();
      });
      this.minimapSoon();
    },
    whenDrawn(done) {
      // Only steps in view are rendered (onlyRenderVisibleElements); each has an input handle once measured.
      const drawn = () => this.flow.getNodes.value.every((n) => n.handleBounds?.target?.length);
      const poll = () => (drawn() ? done() : requestAnimationFrame(poll));
      nextTick(() => requestAnimationFrame(poll));
    },
    patch(nodes, removedNodes, edges, removedEdges) {
      // Order matters: an edge whose step is missing breaks Vue Flow's drawing for good, so edges go
      // first (also those still touching a removed step), steps next, and new edges come last.
      const goneNodes = new Set(removedNodes);
      const dropped = new Set(removedEdges);
      for (const e of edges) if (this.flow.findEdge(e.id)) dropped.add(e.id);
      if (goneNodes.size) {
        // a large flow: look through every edge only when steps go
        for (const e of this.flow.edges.value) if (goneNodes.has(e.source) || goneNodes.has(e.target)) dropped.add(e.id);
      }
      this.dropEdges([...dropped]);
      if (removedNodes.length) this.flow.removeNodes(removedNodes, false);
      const fresh = [];
      const reshaped = [];
      let moved = false;
      for (const n of nodes) {
        const existing = this.flow.findNode(n.id);
        if (!existing) {
          fresh.push(n);
          continue;
        }
        const had = toRaw(existing.data); // compared unproxied: Tidy up compares a thousand steps
        if (JSON.stringify(had.outputs) !== JSON.stringify(n.data.outputs)) reshaped.push(n.id);
        if (JSON.stringify(had) !== JSON.stringify(n.data)) existing.data = n.data; // a move keeps it
        if (this.place(existing, n.position)) moved = true;
      }
      if (fresh.length) {
        this.flow.addNodes(fresh);
        // drawn now: the spots they were dropped on are taken by the steps themselves
        const at = (r, n) => Math.abs(r.x - n.position.x) < 2 && Math.abs(r.y - n.position.y) < 2;
        this.reserved = this.reserved.filter((r) => !fresh.some((n) => at(r, n)));
      }
      const start = this.marks.start;
      this.markStart(nodes);
      if (fresh.length || removedNodes.length || moved) this.minimapSoon();
      else if (this.marks.start !== start) this.minimapLater();
      const newEdges = edges.map((e) => this.edgeStyle(e));
      const addEdges = () => {
        const known = newEdges.filter((e) => this.flow.findNode(e.source) && this.flow.findNode(e.target));
        if (known.length) this.flow.addEdges(known);
        this.showJumps();
        this.repaintPath();
        this.whenDrawn(() => this.countPatch());
      };
      if (reshaped.length) {
        nextTick(() => {
          this.flow.updateNodeInternals(reshaped);
          addEdges();
        });
      } else {
        addEdges();
      }
    },
    moveNodes(positions, fit) {
      // only positions changed (Tidy up): each step moved in place, in one go, and the view fitted once,
      // so the canvas draws only the steps in the final view, once
      performance.mark("fc-move");
      for (const [id, position] of Object.entries(positions)) {
        const node = this.flow.findNode(id);
        if (node) this.place(node, position);
      }
      if (fit) this.fitReadable();
      this.minimapSoon();
      performance.mark("fc-moved");
      this.whenDrawn(() => {
        performance.mark("fc-move-drawn");
        this.countPatch();
      });
    },
    place(node, position) {
      // Vue Flow recomputes computedPosition only for steps on screen (onlyRenderVisibleElements):
      // set it here too, or steps moved while off screen (Tidy up) are looked for at their old spot.
      if (node.position.x === position.x && node.position.y === position.y) return false;
      node.position = { ...position };
      node.computedPosition = { ...node.computedPosition, x: position.x, y: position.y };
      return true;
    },
    countPatch() {
      // data-ready and data-patched (what tests and the benchmark wait for) are set on the element itself:
      // reactive data in this template would redraw Vue Flow, every step of it, each time they change
      this.$el.dataset.patched = String(Number(this.$el.dataset.patched || 0) + 1);
    },
    dropEdges(ids) {
      // removeEdges skips edges marked not deletable (a Go to's jump line): those go too when Python says so
      for (const id of ids) {
        const e = this.flow.findEdge(id);
        if (e && e.deletable === false) e.deletable = true;
      }
      if (ids.length) this.flow.removeEdges(ids);
    },
    setBadges(badges) {
      for (const id of Object.keys(this.marks.badges)) if (!(id in badges)) delete this.marks.badges[id];
      for (const [id, b] of Object.entries(badges)) {
        const old = this.marks.badges[id];
        if (!old || old.errors !== b.errors || old.warnings !== b.warnings || old.title !== b.title)
          this.marks.badges[id] = b;
      }
      this.minimapLater();
    },
    patchBadges(badges, removed) {
      const had = toRaw(this.marks.badges);
      const redder = removed.some((id) => had[id]?.errors) ||
        Object.entries(badges).some(([id, b]) => !b.errors !== !had[id]?.errors);
      for (const id of removed) delete this.marks.badges[id];
      Object.assign(this.marks.badges, badges);
      if (redder) this.minimapLater(); // a step gained or lost its red dot
    },
    setHighlight(ids) {
      this.marks.highlight = Object.fromEntries(ids.map((i) => [i, true]));
      if (ids.length) this.reveal(ids[ids.length - 1]);
    },
    setTraffic(traffic) {
      // {steps: {id: {reached, ended}}, edges: {"source|branch": n}, busiest: n}: numbers on the steps and their
      // outputs, connections as wide as their use ({} clears it)
      this.marks.traffic = (traffic && traffic.steps) || {};
      this.marks.edgeUse = (traffic && traffic.edges) || {};
      this.busiest = (traffic && traffic.busiest) || 0;
      for (const e of this.flow.edges.value) this.styleUse(e);
    },
    styleUse(e) {
      const n = this.marks.edgeUse[e.source + "|" + e.sourceHandle];
      const width = n === undefined || !this.busiest ? null : 1.2 + 7 * Math.min(n / this.busiest, 1);
      const colour = n ? "#1565c0" : "#cfd8dc";
      const style = width === null ? {} : { strokeWidth: width, stroke: colour };
      if (JSON.stringify(e.style || {}) === JSON.stringify(style)) return;
      e.style = style;
      // an arrow head of one size, whatever the line's width (markers scale with the stroke otherwise)
      e.markerEnd = width === null ? MarkerType.ArrowClosed
        : { type: MarkerType.ArrowClosed, width: 24 / width, height: 24 / width, color: colour };
    },
    setPath(ids) {
      this.pathIds = ids;
      this.marks.path = Object.fromEntries(ids.map((i) => [i, true]));
      this.repaintPath();
    },
    selectNodes(ids) {
      const now = this.selectedNodeIds();
      if (now.length === ids.length && now.every((id) => ids.includes(id))) return;
      this.flow.removeSelectedElements();
      const nodes = ids.map((id) => this.flow.findNode(id)).filter(Boolean);
      if (nodes.length) {
        this.flow.addSelectedNodes(nodes);
        if (nodes.length === 1) this.reveal(nodes[0].id);
      }
    },
    fitView() {
      // animated only for small flows: each frame of an animation looks through every step for what is in view
      this.fitReadable(this.flow.nodes.value.length > LARGE_FLOW ? 0 : 200);
    },
    focusNode(id) {
      // a step picked in the search box: selected, and centred at a readable size
      const node = this.flow.findNode(id);
      if (!node) return;
      this.autoFit = false;
      this.flow.removeSelectedElements();
      this.flow.addSelectedNodes([node]);
      const w = node.dimensions?.width || 210;
      const h = node.dimensions?.height || 80;
      const zoom = Math.max(this.flow.viewport.value.zoom, FOCUS_ZOOM);
      this.flow.setCenter(node.computedPosition.x + w / 2, node.computedPosition.y + h / 2, { zoom, duration: 250 });
    },
    zoomBy(factor) {
      const { zoom } = this.flow.viewport.value;
      this.flow.zoomTo(Math.min(2, Math.max(0.05, zoom * factor)), { duration: 150 });
    },
    fitWhenSized() {
      // Vue Flow fits into the pane size it has measured; right after mounting that can still be 0.
      const dims = this.flow.dimensions.value;
      if (dims.width > 50 && dims.height > 50) {
        this.fitReadable();
        this.autoFit = true; // re-fit when the pane resizes, until the user pans or zooms
      } else {
        requestAnimationFrame(() => this.fitWhenSized());
      }
    },
    fitReadable(duration = 0) {
      // The whole flow when it fits at a readable size; else the selection, or else the start step,
      // at a readable size (the minimap and the search box find the rest).
      const nodes = this.flow.nodes.value;
      if (!nodes.length) return;
      const padding = 0.15;
      const { width, height } = this.flow.dimensions.value;
      const all = getRectOfNodes(nodes);
      const whole = Math.min(width / (all.width * (1 + 2 * padding)), height / (all.height * (1 + 2 * padding)));
      if (whole >= READABLE_ZOOM) {
        this.flow.fitView({ padding, maxZoom: 1.1, duration });
        return;
      }
      let focus = this.selectedNodeIds();
      if (!focus.length) {
        const start = nodes.find((n) => n.data.start) ||
          nodes.reduce((a, b) => (b.computedPosition.y + b.computedPosition.x < a.computedPosition.y + a.computedPosition.x ? b : a));
        focus = [start.id];
      }
      this.flow.fitView({ nodes: focus, padding, minZoom: READABLE_ZOOM, maxZoom: 0.8, duration });
    },
    onMoveStart(e) {
      if (e && e.event && e.event.sourceEvent) this.autoFit = false;
    },
    onMiniMoved() {
      this.autoFit = false; // the user moved the view: a resized pane no longer fits the flow again
    },
    dropAtCentre(type) {
      // a palette click: the new step goes in free space nearest the middle of the view
      const box = this.$el.getBoundingClientRect();
      const c = this.flow.screenToFlowCoordinate({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
      const spot = this.freeSpot(c.x - NEW_STEP.width / 2, c.y - NEW_STEP.height / 2);
      // kept free until the step is drawn there: quick clicks (or clicks before the page is connected)
      // would all find the same spot
      this.reserved.push({ x: spot.x, y: spot.y, until: performance.now() + 5000 });
      this.$emit("node-drop", { type, x: Math.round(spot.x), y: Math.round(spot.y) });
    },
    freeSpot(x, y) {
      // rings of candidate spots around (x, y), nearest first; the first that overlaps no step wins
      const gap = 20;
      const now = performance.now();
      this.reserved = this.reserved.filter((r) => r.until > now);
      const taken = this.flow.nodes.value.map((n) => ({
        x: n.computedPosition.x - gap, y: n.computedPosition.y - gap,
        w: (n.dimensions?.width || NEW_STEP.width) + 2 * gap, h: (n.dimensions?.height || NEW_STEP.height) + 2 * gap,
      })).concat(this.reserved.map((r) => ({
        x: r.x - gap, y: r.y - gap, w: NEW_STEP.width + 2 * gap, h: NEW_STEP.height + 2 * gap })));
      const free = (px, py) => !taken.some((t) =>
        px < t.x + t.w && t.x < px + NEW_STEP.width && py < t.y + t.h && t.y < py + NEW_STEP.height);
      const dx = NEW_STEP.width + gap, dy = NEW_STEP.height + gap;
      for (let ring = 0; ring < 12; ring++) {
        const spots = [];
        for (let i = -ring; i <= ring; i++)
          for (let j = -ring; j <= ring; j++)
            if (Math.max(Math.abs(i), Math.abs(j)) === ring) spots.push([i, j]);
        spots.sort((a, b) => Math.hypot(a[0] * dx, a[1] * dy) - Math.hypot(b[0] * dx, b[1] * dy));
        for (const [i, j] of spots) if (free(x + i * dx, y + j * dy)) return { x: x + i * dx, y: y + j * dy };
      }
      return { x, y }; // a crowded canvas: the middle after all
    },
    // --- helpers ---------------------------------------------------------------------------
    miniColour(node) {
      // a step on the minimap: red with errors, blue when selected, green at the start, else grey
      const badge = toRaw(this.marks.badges)[node.id];
      if (badge && badge.errors) return "#d32f2f";
      return node.selected ? "#1976d2" : this.marks.start === node.id ? "#2e7d32" : "#9aa5b1";
    },
    markStart(nodes) {
      const start = nodes.find((n) => n.data.start);
      if (start) this.marks.start = start.id;
      else if (nodes.some((n) => n.id === this.marks.start)) this.marks.start = null;
    },
    edgeClass(e) {
      const kind = e.sourceHandle === "jump" ? "jump" : e.sourceHandle === "next" ? "next" : "branch";
      return "fc-edge fc-edge-" + kind;
    },
    edgeStyle(e) {
      return {
        ...e,
        type: e.sourceHandle === "jump" ? "default" : "smoothstep",
        hidden: e.sourceHandle === "jump",
        markerEnd: MarkerType.ArrowClosed,
        class: this.edgeClass(e),
        labelBgPadding: [4, 2],
        labelBgBorderRadius: 3,
      };
    },
    repaintPath() {
      const ids = this.pathIds || [];
      if (!ids.length && !this.pathPainted) return; // nothing drawn as a path: no need to look at every edge
      this.pathPainted = ids.length > 0;
      const pairs = new Set();
      for (let i = 0; i + 1 < ids.length; i++) pairs.add(ids[i] + "\u0000" + ids[i + 1]);
      for (const e of this.flow.edges.value) {
        const on = pairs.has(e.source + "\u0000" + e.target);
        const base = this.edgeClass(e);
        const cls = on ? base + " fc-edge-path" : base;
        if (e.class !== cls) e.class = cls;
        if (e.animated !== on) e.animated = on;
      }
    },
    reveal(id) {
      const node = this.flow.findNode(id);
      if (!node) return;
      const box = this.$el.getBoundingClientRect();
      const { x, y, zoom } = this.flow.viewport.value;
      const w = node.dimensions?.width || 200;
      const h = node.dimensions?.height || 80;
      const left = node.computedPosition.x * zoom + x;
      const top = node.computedPosition.y * zoom + y;
      if (left < 0 || top < 0 || left + w * zoom > box.width || top + h * zoom > box.height) {
        this.flow.setCenter(node.computedPosition.x + w / 2, node.computedPosition.y + h / 2, {
          zoom: Math.max(zoom, 0.6),
          duration: 250,
        });
      }
    },
    selectedNodeIds() {
      return this.flow.getSelectedNodes.value.map((n) => n.id);
    },
    // --- what the user does ------------------------------------------------------------------
    isValidConnection(c) {
      if (c.id) return true; // an edge pushed from Python (Vue Flow checks those too): always drawn
      if (!c.source || !c.target || c.source === c.target || c.targetHandle !== "in") return false;
      if (c.sourceHandle === "jump") return false;
      return !this.flow.edges.value.some((e) => e.source === c.source && e.sourceHandle === c.sourceHandle);
    },
    onConnect(c) {
      this.$emit("edge-added", { source: c.source, sourceHandle: c.sourceHandle, target: c.target });
    },
    onDragStop(e) {
      const nodes = (e.nodes && e.nodes.length ? e.nodes : [e.node]).filter(Boolean);
      this.$emit(
        "nodes-moved",
        nodes.map((n) => ({ id: n.id, x: Math.round(n.position.x), y: Math.round(n.position.y) })),
      );
    },
    onDragOver(e) {
      if (e.dataTransfer && [...e.dataTransfer.types].includes(STEP_MIME)) {
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }
    },
    onDrop(e) {
      if (this.readonly) return;
      const type = e.dataTransfer && e.dataTransfer.getData(STEP_MIME);
      if (!type) return;
      e.preventDefault();
      const p = this.flow.screenToFlowCoordinate({ x: e.clientX, y: e.clientY });
      this.$emit("node-drop", { type, x: Math.round(p.x), y: Math.round(p.y) });
    },
    onPointerMove(e) {
      this.pointer = { x: e.clientX, y: e.clientY };
    },
    handleKey(e) {
      if (isTyping(e.target) || !this.$el.isConnected || this.readonly) return;
      if (document.querySelector(".q-dialog")) return; // a dialog has the keyboard
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (key === "delete" || key === "backspace") {
        const nodes = this.selectedNodeIds();
        const edges = this.flow.getSelectedEdges.value.map((x) => x.data);
        if (nodes.length || edges.length) {
          e.preventDefault();
          this.$emit("delete-selected", { nodes, edges });
        }
      } else if (mod && key === "z") {
        e.preventDefault();
        this.$emit(e.shiftKey ? "redo" : "undo");
      } else if (mod && key === "y") {
        e.preventDefault();
        this.$emit("redo");
      } else if (mod && key === "c") {
        const nodes = this.selectedNodeIds();
        if (nodes.length && !String(window.getSelection() || "")) {
          e.preventDefault();
          this.$emit("copy", { nodes });
        }
      } else if (mod && key === "v") {
        e.preventDefault();
        const box = this.$el.getBoundingClientRect();
        const inside =
          this.pointer &&
          this.pointer.x >= box.left && this.pointer.x <= box.right &&
          this.pointer.y >= box.top && this.pointer.y <= box.bottom;
        const p = inside ? this.flow.screenToFlowCoordinate(this.pointer) : null;
        this.$emit("paste", p ? { x: Math.round(p.x), y: Math.round(p.y) } : {});
      }
    },
  },
  template: `
    <div class="fc-root" :class="{ 'fc-readonly': readonly }" :data-readonly="readonly ? 'true' : null" data-patched="0" @dragover="onDragOver" @drop="onDrop"
         @pointermove="onPointerMove">
      <div v-if="noSteps && !readonly" class="fc-empty">
        <i class="q-icon material-icons" aria-hidden="true">south_west</i>
        <div>Drag a step from the list on the left and drop it here.</div>
        <div>A call begins at the first step; connect steps by dragging from an output dot to the next step.</div>
      </div>
      <VueFlow :id="flowKey" :node-types="nodeTypes" :delete-key-code="null" :connection-mode="connectionMode"
               :is-valid-connection="isValidConnection" :min-zoom="0.05" :max-zoom="2" :connection-radius="30"
               :select-nodes-on-drag="false" :elevate-edges-on-select="true" :only-render-visible-elements="true"
               :nodes-draggable="!readonly" :nodes-connectable="!readonly" :edges-updatable="!readonly"
               @connect="onConnect" @move-start="onMoveStart" @node-drag-stop="onDragStop" @selection-drag-stop="onDragStop">
        <Panel v-if="!noSteps" position="bottom-left">
          <FlowMiniMap :ref="setMinimap" :flow="flow" :colour-of="miniColour" @moved="onMiniMoved" />
        </Panel>
      </VueFlow>
    </div>`,
};
