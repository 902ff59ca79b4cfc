// The flow canvas: Vue Flow inside a NiceGUI element (see designer/ui/canvas.py).
// Python owns the graph; this draws what it is given and reports what the user does.
import { inject, markRaw, nextTick, provide, reactive, watch } from "vue";

// Vue Flow's unbundled build reads process.env.NODE_ENV; define it before the module loads.
globalThis.process ??= { env: { NODE_ENV: "production" } };
const { VueFlow, Handle, Position, MarkerType, ConnectionMode, useVueFlow } = await import(
  "vue-flow-dist/vue-flow-core.mjs"
);

for (const css of ["vue-flow-dist/style.css", "vue-flow-dist/theme-default.css", "flexml-static/flow_canvas.css"]) {
  const href = import.meta.resolve(css);
  if (!document.querySelector(`link[href="${href}"]`)) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }
}

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
      <div class="fc-snippet" v-if="data.snippet">{{ data.snippet }}</div>
      <div class="fc-id">
        <span v-if="data.start" class="fc-start" title="Calls begin here">▶ start</span>
        <span>{{ id }}</span>
      </div>
      <Handle v-if="data.jump" type="source" id="jump" :position="Position.Right" :connectable="false"
              class="fc-handle-jump" />
      <div class="fc-outs" v-if="data.outputs.length">
        <div v-for="o in data.outputs" :key="o.id" class="fc-out" :data-output="o.id">
          <span class="fc-out-label">{{ o.label }}</span>
          <Handle type="source" :id="o.id" :position="Position.Right" class="fc-handle-out" />
        </div>
      </div>
    </div>`,
};

export default {
  components: { VueFlow },
  props: { flowKey: String, initial: Object },
  emits: ["ready", "node-drop", "edge-added", "nodes-moved", "delete-selected", "selection-change",
          "copy", "paste", "undo", "redo"],
  setup(props, { emit }) {
    const flow = useVueFlow(props.flowKey);
    const marks = reactive({ badges: {}, highlight: {}, path: {} });
    provide("flexmlMarks", marks);
    const selectedKey = () =>
      JSON.stringify([flow.getSelectedNodes.value.map((n) => n.id), flow.getSelectedEdges.value.map((e) => e.id)]);
    watch(selectedKey, () => {
      // a Go to's dashed jump line shows while the Go to (or the step it jumps to) is selected
      const chosen = new Set(flow.getSelectedNodes.value.map((n) => n.id));
      for (const e of flow.edges.value) {
        if (e.sourceHandle !== "jump") continue;
        const show = chosen.has(e.source) || chosen.has(e.target);
        if (e.hidden === show) e.hidden = !show;
      }
      emit("selection-change", {
        nodes: flow.getSelectedNodes.value.map((n) => n.id),
        edges: flow.getSelectedEdges.value.map((e) => e.data),
      });
    });
    return {
      flow,
      marks,
      nodeTypes: { step: markRaw(StepNode) },
      connectionMode: ConnectionMode.Strict,
    };
  },
  data() {
    return { pointer: null, readyCount: null };
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
    performance.mark("fc-mounted");
    const first = this.initial;
    if (first) {
      this.setGraph(first.nodes, first.edges, true);
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
      this.flow.setNodes(nodes);
      this.flow.setEdges(edges.map((e) => this.edgeStyle(e)));
      this.repaintPath();
      if (fit && nodes.length) this.fitWhenSized();
      this.whenDrawn(() => {
        this.readyCount = nodes.length;
        performance.mark("fc-drawn"); // the steps on screen are drawn and measured (the benchmark reads it)
      });
    },
    whenDrawn(done) {
      // Only steps in view are rendered (onlyRenderVisibleElements); each has an input handle once measured.
      const drawn = () => this.flow.getNodes.value.every((n) => n.handleBounds?.target?.length);
      const poll = () => (drawn() ? done() : requestAnimationFrame(poll));
      nextTick(() => requestAnimationFrame(poll));
    },
    patch(nodes, removedNodes, edges, removedEdges) {
      if (removedEdges.length) this.flow.removeEdges(removedEdges);
      if (removedNodes.length) this.flow.removeNodes(removedNodes, false);
      const fresh = [];
      const reshaped = [];
      for (const n of nodes) {
        const existing = this.flow.findNode(n.id);
        if (!existing) {
          fresh.push(n);
          continue;
        }
        if (JSON.stringify(existing.data.outputs) !== JSON.stringify(n.data.outputs)) reshaped.push(n.id);
        existing.data = n.data;
        existing.position = { ...n.position };
      }
      if (fresh.length) this.flow.addNodes(fresh);
      const newEdges = [];
      for (const e of edges) {
        if (this.flow.findEdge(e.id)) this.flow.removeEdges([e.id]);
        newEdges.push(this.edgeStyle(e));
      }
      if (reshaped.length) {
        nextTick(() => {
          this.flow.updateNodeInternals(reshaped);
          if (newEdges.length) this.flow.addEdges(newEdges);
          this.repaintPath();
        });
      } else if (newEdges.length) {
        this.flow.addEdges(newEdges);
        this.repaintPath();
      }
    },
    setBadges(badges) {
      for (const id of Object.keys(this.marks.badges)) if (!(id in badges)) delete this.marks.badges[id];
      for (const [id, b] of Object.entries(badges)) {
        const old = this.marks.badges[id];
        if (!old || old.errors !== b.errors || old.warnings !== b.warnings || old.title !== b.title)
          this.marks.badges[id] = b;
      }
    },
    setHighlight(ids) {
      this.marks.highlight = Object.fromEntries(ids.map((i) => [i, true]));
      if (ids.length) this.reveal(ids[ids.length - 1]);
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
      this.flow.fitView({ padding: 0.15, maxZoom: 1.1, duration: 200 });
    },
    zoomBy(factor) {
      const { zoom } = this.flow.viewport.value;
      this.flow.zoomTo(Math.min(2, Math.max(0.1, zoom * factor)), { duration: 150 });
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
    fitReadable() {
      // The whole flow when it fits at a readable size; else its beginning (top left) at a readable size.
      this.flow.fitView({ padding: 0.15, maxZoom: 1.1 });
      const READABLE = 0.6;
      if (this.flow.viewport.value.zoom >= READABLE) return;
      const nodes = this.flow.nodes.value;
      const minX = Math.min(...nodes.map((n) => n.computedPosition.x));
      const minY = Math.min(...nodes.map((n) => n.computedPosition.y));
      this.flow.setViewport({ x: 30 - minX * READABLE, y: 30 - minY * READABLE, zoom: READABLE });
    },
    onMoveStart(e) {
      if (e && e.event && e.event.sourceEvent) this.autoFit = false;
    },
    dropAtCentre(type) {
      const box = this.$el.getBoundingClientRect();
      const p = this.flow.screenToFlowCoordinate({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
      const jitter = (this.flow.nodes.value.length % 5) * 24;
      this.$emit("node-drop", { type, x: Math.round(p.x - 90 + jitter), y: Math.round(p.y - 40 + jitter) });
    },
    // --- helpers ---------------------------------------------------------------------------
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
      if (isTyping(e.target) || !this.$el.isConnected) return;
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
    <div class="fc-root" :data-ready="readyCount" @dragover="onDragOver" @drop="onDrop"
         @pointermove="onPointerMove">
      <div v-if="!flow.nodes.value.length" class="fc-empty">
        <i class="q-icon material-icons" aria-hidden="true">south_west</i>
        <div>Drag a step from the list on the left and drop it here.</div>
        <div>A call begins at the first step; connect steps by dragging from an output dot to the next step.</div>
      </div>
      <VueFlow :id="flowKey" :node-types="nodeTypes" :delete-key-code="null" :connection-mode="connectionMode"
               :is-valid-connection="isValidConnection" :min-zoom="0.1" :max-zoom="2" :connection-radius="30"
               :select-nodes-on-drag="false" :elevate-edges-on-select="true" :only-render-visible-elements="true"
               @connect="onConnect" @move-start="onMoveStart" @node-drag-stop="onDragStop" @selection-drag-stop="onDragStop" />
    </div>`,
};
