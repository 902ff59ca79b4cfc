// "@vue-flow/core" for packages that import it by name (the minimap): the very module the canvas loads,
// so both share one Vue Flow store. designer/ui/canvas.py maps the name to this folder.
export * from "vue-flow-dist/vue-flow-core.mjs";
