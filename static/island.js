// A plain <div> that is its own Vue component. NiceGUI draws a page's elements from the nearest
// component above them: a label changing inside a plain <div> redraws everything under that component
// (in the editor, the whole page with its canvas: about 30 ms a keystroke). Inside an island, only
// the island is drawn again. See designer/ui/island.py.
export default {
  template: "<div><slot></slot></div>",
};
