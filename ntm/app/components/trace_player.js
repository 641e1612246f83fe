// NTM Explorer: the trace player. One recorded episode of a trained NTM, stepped and played in
// the browser (a Streamlit components-v2 component, no iframe).
//
// The server sends the episode once, as binary (ntm/stepper/player.py documents the format):
// the figures as Plotly JSON, built by ntm.figures at the opening step, and the trace's arrays.
// Every heatmap figure is drawn once with Plotly.newPlot; a cursor move then only restyles what
// changed (the z of the per-step panels, the outlines, the cursor lines) with Plotly.update /
// Plotly.relayout, and rewrites a few text nodes. The small bar charts (key, shift, erase, add,
// read vector) are plain SVG built from the same figure JSON (svg_bars.js, prepended to this
// file): a step moves their bars without a Plotly redraw. Nothing is rebuilt and nothing is asked of the
// server while the cursor moves: the server hears one setTriggerValue("stop", t) once the
// cursor has stopped (a pause, or a step followed by a short quiet), to put t in the URL.
//
// Memory is rebuilt here from M_0, the write weightings and the erase and add vectors with the
// paper's eqs. 3-4 (as ntm.memory.write: every head erases, then every head adds), in float64,
// for the rows on show; the browser test holds it to the trace.
//
// For tests and benchmarks, the root element carries `ntmPlayer` (this file's TracePlayer):
// `stats.frames` counts the cursor positions drawn, `stats.log` keeps [t, performance.now()].

const FORMAT = "ntm-trace-player/1";
const MAGIC = "NTMTRACE";
const SYNC_QUIET_MS = 400; // a step is a "stop" once no other step follows for this long
const DTYPES = { float32: Float32Array, int16: Int16Array, uint8: Uint8Array, int32: Int32Array };
const STAGE_COLUMNS = 5; // previous, content, gated, shifted, sharpened (ntm.stepper.player.STAGES)
const PLAYERS = new WeakMap(); // parentElement -> TracePlayer
let uid = 0;

// ------------------------------------------------------------------------------------------
// The payload
// ------------------------------------------------------------------------------------------

/** The header and typed-array views of a payload (ntm.stepper.player.pack). */
function decodePayload(bytes) {
  const src = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  // One copy into a fresh buffer: typed views need aligned offsets.
  const buffer = src.slice().buffer;
  const u8 = new Uint8Array(buffer);
  const magic = String.fromCharCode(...u8.subarray(0, 8));
  if (magic !== MAGIC) throw new Error("not a trace player payload");
  const id = Array.from(u8.subarray(8, 24), (b) => b.toString(16).padStart(2, "0")).join("");
  const length = new DataView(buffer).getUint32(24, true);
  const header = JSON.parse(new TextDecoder().decode(u8.subarray(28, 28 + length)));
  if (header.format !== FORMAT) throw new Error(`unknown payload format ${header.format}`);
  let base = 28 + length;
  base += (8 - (base % 8)) % 8;
  const arrays = {};
  for (const [name, spec] of Object.entries(header.arrays)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    arrays[name] = { data: new DTYPES[spec.dtype](buffer, base + spec.offset, count), shape: spec.shape };
  }
  return { id, header, arrays, bytes: src.byteLength };
}

/** Payload ids compare without decoding: bytes 8..24. */
function payloadId(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return Array.from(u8.subarray(8, 24), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A 1-D typed array, or a 2-D array as rows of views (what Plotly takes for z). */
function plotlyArray(array) {
  const { data, shape } = array;
  if (shape.length === 1) return data;
  const [rows, cols] = shape;
  const out = new Array(rows);
  for (let i = 0; i < rows; i++) out[i] = data.subarray(i * cols, (i + 1) * cols);
  return out;
}

/** The figure JSON with every {"$array": name} replaced by its typed array. */
function resolveArrays(node, arrays) {
  if (Array.isArray(node)) return node.map((v) => resolveArrays(v, arrays));
  if (node && typeof node === "object") {
    if (typeof node.$array === "string") return plotlyArray(arrays[node.$array]);
    const out = {};
    for (const [k, v] of Object.entries(node)) out[k] = resolveArrays(v, arrays);
    return out;
  }
  return node;
}

/** The last axis of array `a` at leading indices `idx` (a view, no copy). */
function at(a, ...idx) {
  let offset = 0;
  for (let d = 0; d < idx.length; d++) offset = offset * a.shape[d] + idx[d];
  let inner = 1;
  for (let d = idx.length; d < a.shape.length; d++) inner *= a.shape[d];
  return a.data.subarray(offset * inner, (offset + 1) * inner);
}

// ------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k === "html") node.innerHTML = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of [].concat(children)) if (child) node.append(child);
  return node;
}

const ICON_PATHS = {
  first: "M6 6h2v12H6zm3.5 6 8.5 6V6z",
  back: "M15.4 7.4 14 6l-6 6 6 6 1.4-1.4L10.8 12z",
  next: "M8.6 16.6 10 18l6-6-6-6-1.4 1.4 4.6 4.6z",
  last: "M6 18l8.5-6L6 6v12zM16 6v12h2V6h-2z",
  play: "M8 5v14l11-7z",
  pause: "M6 19h4V5H6v14zm8-14v14h4V5h-4z",
};

function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("icon");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICON_PATHS[name]);
  svg.append(path);
  return svg;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** The little markdown the narration uses: `code` and **bold**. */
function inlineMarkdown(text) {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
}

function absMax(values, floor) {
  let m = floor;
  for (const row of values) for (let j = 0; j < row.length; j++) m = Math.max(m, Math.abs(row[j]));
  return m;
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

const fixed = (v, digits = 2) => (Math.abs(v) < 0.5 * 10 ** -digits ? 0 : v).toFixed(digits);
const bits = (row) => Array.from(row, (v) => String(Math.trunc(v))).join("");

/** A small Plotly template in the spirit of Streamlit's own (st.plotly_chart's theme). */
function template(fontFamily, text) {
  const muted = "#808495";
  const axis = {
    automargin: true,
    zeroline: false,
    tickfont: { size: 12, color: muted },
    title: { font: { size: 13, color: muted } },
    linecolor: "rgba(0,0,0,0)",
    gridcolor: "#e6eaf1",
  };
  return {
    layout: {
      font: { family: fontFamily, color: text },
      paper_bgcolor: "white",
      title: { x: 0, xanchor: "left", font: { size: 14 } },
      hoverlabel: { bgcolor: "white", bordercolor: "#d5dae5", font: { family: fontFamily, size: 13, color: text } },
      xaxis: axis,
      yaxis: axis,
    },
  };
}

// ------------------------------------------------------------------------------------------
// Figures: each kind knows how to show one step
// ------------------------------------------------------------------------------------------

class Figure {
  constructor(player, spec) {
    this.player = player;
    this.spec = spec;
    this.kind = spec.kind;
    this.div = el("div", { class: "plot", "data-figure": spec.id });
    this.alt = el("figcaption", { class: "sr-only" });
    this.box = el("figure", { class: `fig fig-${spec.kind}`, "data-figure-box": spec.id, "aria-label": spec.label }, [this.alt, this.div]);
    this.drawn = false;
    this.visible = true; // until the IntersectionObserver says otherwise
    this.t = null;
  }

  /** Bar charts are SVG (svg_bars.js): cheap to update, drawn without Plotly. */
  get svg() {
    return this.kind === "bars" || this.kind === "kernel";
  }

  async draw(Plotly, config, tmpl, t) {
    const fig = resolveArrays(this.spec.figure, this.player.arrays);
    if (this.svg) {
      const { fontFamily, color } = tmpl.layout.font;
      this.div.classList.add("svg-figure");
      this.bars = new SvgBars(this.div, fig, { font: fontFamily, color });
      this.width = Math.max(200, Math.floor(this.div.getBoundingClientRect().width));
      this.bars.draw(this.width);
      this.drawn = true;
      this.t = this.player.header.start;
      this.show(t);
      return;
    }
    fig.layout.template = tmpl;
    // A fixed width (kept up to date by a ResizeObserver): with autosize, Plotly measures the
    // page (a forced layout) on every restyle.
    fig.layout.autosize = false;
    fig.layout.width = this.width = Math.max(200, Math.floor(this.div.getBoundingClientRect().width));
    this.Plotly = Plotly;
    if (this.kind === "targets") {
      // The steps are categories: fix the x-range to them (the builder's cursor, at the step's
      // number, would otherwise stretch it).
      const n = this.player.header.scoredSteps.length;
      for (const [name, axis] of Object.entries(fig.layout)) {
        if (/^xaxis\d*$/.test(name)) Object.assign(axis, { range: [-0.5, n - 0.5], autorange: false });
      }
    }
    this.shapes = fig.layout.shapes ?? [];
    this.base = fig;
    // Its own export options: filenames() names each figure's PNG after it and the step.
    await Plotly.newPlot(this.div, fig.data, fig.layout, { ...config, toImageButtonOptions: { ...config.toImageButtonOptions } });
    this.drawn = true;
    // The figure was built at the opening step. The target / output figure is redrawn anyway:
    // its builder puts the cursor at the step's number, which a category axis reads as a
    // position.
    this.t = this.kind === "targets" ? null : this.player.header.start;
    this.show(t);
  }

  /** Restyle to step t (only what changes). */
  show(t) {
    if (!this.drawn || t === this.t) return;
    this.t = t;
    this.update(t);
  }

  update(t) {
    UPDATES[this.kind]?.(this, t);
  }

  /** A new width (the ResizeObserver). */
  resize(width) {
    this.width = width;
    if (this.svg) this.bars.draw(width);
    else this.Plotly.relayout(this.div, { width });
  }

  /** The figure's shapes with its cursor lines at x (or hidden, x < 0). Replacing the whole
   *  array redraws only the shapes; editing `shapes[i].x0` would recompute the whole figure. */
  cursorShapes(x) {
    const cursor = new Set(this.spec.cursorShapes);
    return this.shapes.map((shape, i) => (cursor.has(i) ? { ...shape, x0: x, x1: x, visible: x >= 0 } : shape));
  }
}


const AXIS_NAME = (ref) => ref.replace(/^([xy])(\d*)$/, "$1axis$2"); // "x2" -> "xaxis2"

/**
 * A heatmap figure drawn in two layers, for speed. Plotly renders the builder's figure once
 * (axes, titles and the shapes that never move); a copy of that drawing stays over the plot as
 * a static picture, and the plot itself keeps only the data, on axes that draw nothing, with the
 * same margins. A step restyles the data alone (Plotly redraws no axis, e.g. 85 category ticks,
 * and no shape, which took most of a step), and moves the outlines: SVG rectangles over the
 * plot, under its hover labels. The camera button exports the builder's whole figure at the
 * cursor. Subclasses say what changes: staticShapes, outlineSpecs and frame(t).
 */
class LayeredFigure extends Figure {
  async draw(Plotly, config, tmpl, t) {
    this.Plotly = Plotly;
    this.full = resolveArrays(this.spec.figure, this.player.arrays);
    this.full.layout.template = tmpl;
    this.pictureShapes = this.staticShapes(this.full.layout.shapes ?? []);
    this.config = {
      ...config,
      toImageButtonOptions: { ...config.toImageButtonOptions },
      modeBarButtonsToRemove: ["toImage"],
      modeBarButtonsToAdd: [{
        name: "toImage", title: "Download plot as a PNG", icon: Plotly.Icons.camera,
        click: () => this.download(),
      }],
    };
    this.overlay = el("div", { class: "layer-picture", "aria-hidden": "true" });
    this.outlines = svgEl("svg", { class: "layer-outlines", "aria-hidden": "true" });
    await this.render(Math.max(200, Math.floor(this.div.getBoundingClientRect().width)));
    this.drawn = true;
    this.t = null;
    this.show(t);
  }

  /** The builder's figure at this width, copied as the static picture; then the fast plot. */
  async render(width) {
    const P = this.Plotly;
    this.width = width;
    const layout = { ...this.full.layout, width, autosize: false, shapes: this.pictureShapes };
    await P.newPlot(this.div, this.full.data, layout, this.config);
    const full = this.div._fullLayout;
    this.overlay.replaceChildren(...[...this.div.querySelectorAll("svg.main-svg")].slice(0, 2).map(picture));
    // Every axis the traces use: where it lies (px) and its range, for the outlines.
    const names = new Set(this.full.data.flatMap((tr) => [AXIS_NAME(tr.xaxis ?? "x"), AXIS_NAME(tr.yaxis ?? "y")]));
    this.axes = {};
    for (const name of names) {
      const ax = full[name];
      this.axes[name] = { offset: ax._offset, length: ax._length, range: [...ax.range], categories: ax.type === "category" ? ax._categories.map(String) : null };
    }
    this.drawOutlineLayer(width, full, layout.plot_bgcolor);
    await P.react(this.div, this.fastData(), this.fastLayout(layout, full._size), this.config);
    // Over the plot, under the mode bar and the hover labels.
    const container = this.div.querySelector(".svg-container");
    container.insertBefore(this.outlines, container.querySelector(".modebar-container"));
    container.insertBefore(this.overlay, this.outlines);
  }

  /** The SVG over the plot: each subplot's frame, then the outlines (moved by update), each
   *  clipped to its subplot as Plotly clips shapes. */
  drawOutlineLayer(width, full, background) {
    const frames = Object.values(full._plots ?? {}).map((plot) => this.frameRect(plot, background));
    const clips = new Map();
    const defs = svgEl("defs");
    const clipOf = (xref, yref) => {
      const key = `${xref}${yref}`;
      if (!clips.has(key)) {
        const x = this.axes[AXIS_NAME(xref)];
        const y = this.axes[AXIS_NAME(yref)];
        const id = `ntm-tp-clip-${++uid}`;
        const clip = svgEl("clipPath", { id });
        clip.append(svgEl("rect", { x: x.offset, y: y.offset, width: x.length, height: y.length }));
        defs.append(clip);
        clips.set(key, `url(#${id})`);
      }
      return clips.get(key);
    };
    this.outlineRects = this.outlineSpecs().map(({ xref, yref, width: w }) => svgEl("rect", {
      class: "layer-outline", "data-xref": xref, "data-yref": yref, fill: "none",
      stroke: this.player.colors.argmax, "stroke-width": w, "clip-path": clipOf(xref, yref),
    }));
    this.outlines.setAttribute("width", width);
    this.outlines.setAttribute("height", full.height);
    this.outlines.replaceChildren(defs, ...frames.filter(Boolean), ...this.outlineRects);
  }

  /** The builder's heatmaps leave a thin edge of the plot's background round the data: the
   *  fast plot's fill the whole area, so the edge is drawn here. */
  frameRect(plot, colour) {
    const x = this.axes[AXIS_NAME(plot.xaxis._id)];
    const y = this.axes[AXIS_NAME(plot.yaxis._id)];
    if (!x || !y || !colour || /^(white|#fff(fff)?)$/i.test(colour)) return null;
    return svgEl("rect", {
      x: x.offset + 0.75, y: y.offset + 0.75, width: x.length - 1.5, height: y.length - 1.5,
      fill: "none", stroke: colour, "stroke-width": 1.5,
    });
  }

  /** Axes that draw nothing (no ticks, labels, lines or titles) but keep the plot's background,
   *  which shows between gapped cells; hidden axes would drop it. Same margins, same ranges. */
  fastLayout(layout, size) {
    const fast = { ...layout, shapes: [], annotations: [], margin: { l: size.l, r: size.r, t: size.t, b: size.b, pad: 0, autoexpand: false } };
    for (const [name, ax] of Object.entries(this.axes)) {
      fast[name] = {
        ...layout[name], type: "linear", autorange: false, range: ax.range, fixedrange: true, automargin: false,
        tickmode: "array", tickvals: [], showticklabels: false, ticks: "", showline: false, showgrid: false,
        zeroline: false, title: { text: "" },
      };
    }
    fast.title = { text: "" };
    return fast;
  }

  /** The traces on numeric axes: a category becomes its index, and the hover keeps its label. */
  fastData() {
    return this.full.data.map((trace) => {
      const xs = this.axes[AXIS_NAME(trace.xaxis ?? "x")].categories;
      const ys = this.axes[AXIS_NAME(trace.yaxis ?? "y")].categories;
      const out = { ...trace };
      let hover = trace.hovertemplate ?? "";
      if (xs && trace.x) {
        out.x = Array.from(trace.x, (v) => xs.indexOf(String(v)));
        out.customdata = Array.from(trace.z, () => Array.from(trace.x, String));
        hover = hover.replaceAll("%{x}", "%{customdata}");
      }
      if (ys && trace.y) {
        out.y = Array.from(trace.y, (v) => ys.indexOf(String(v)));
        out.text = Array.from(trace.y, (v) => Array.from(trace.z[0], () => String(v)));
        hover = hover.replaceAll("%{y}", "%{text}");
      }
      out.hovertemplate = hover;
      return out;
    });
  }

  resize(width) {
    const t = this.t;
    this.render(width).then(() => {
      this.t = null;
      this.show(t);
    });
  }

  /** Pixels of the data box [x0, x1] × [y0, y1] on axes xref / yref. */
  place(rect, [x0, x1, y0, y1]) {
    const x = this.axes[AXIS_NAME(rect.dataset.xref)];
    const y = this.axes[AXIS_NAME(rect.dataset.yref)];
    const px = (v) => x.offset + ((v - x.range[0]) / (x.range[1] - x.range[0])) * x.length;
    const py = (v) => y.offset + ((y.range[1] - v) / (y.range[1] - y.range[0])) * y.length;
    const [left, right] = [px(x0), px(x1)].sort((a, b) => a - b);
    const [top, bottom] = [py(y0), py(y1)].sort((a, b) => a - b);
    rect.setAttribute("x", left);
    rect.setAttribute("y", top);
    rect.setAttribute("width", right - left);
    rect.setAttribute("height", bottom - top);
    Object.assign(rect.dataset, { x0, x1, y0, y1 });
  }

  update(t) {
    const { restyle, traces, boxes } = this.frame(t);
    this.Plotly.restyle(this.div, restyle, traces);
    this.outlineRects.forEach((rect, i) => {
      rect.style.display = boxes[i] ? "" : "none";
      if (boxes[i]) this.place(rect, boxes[i]);
    });
  }

  /** The PNG of the camera button: the builder's figure with this step's data and outlines. */
  download() {
    const { restyle, traces, boxes } = this.frame(this.t);
    const data = this.full.data.map((trace) => ({ ...trace }));
    for (const [key, values] of Object.entries(restyle)) traces.forEach((k, i) => { data[k][key] = values[i]; });
    const shapes = [...this.pictureShapes];
    this.outlineSpecs().forEach(({ xref, yref, width }, i) => {
      if (boxes[i]) shapes.push(this.player.outline(...boxes[i], width, xref, yref));
    });
    const options = this.div._context.toImageButtonOptions;
    const { width, height } = this.div._fullLayout;
    return this.Plotly.downloadImage(
      { data, layout: { ...this.full.layout, width, height, shapes } },
      { format: "png", scale: 2, width, height, filename: options.filename ?? `ntm_${this.spec.id}` },
    );
  }
}

/** A copy of one of Plotly's svg layers without the data (every trace layer is an .mlayer),
 *  the backgrounds, the hover and drag layers, or the colour bars (their range moves). */
function picture(svg) {
  const copy = svg.cloneNode(true);
  copy.querySelectorAll(".bglayer, .mlayer, .plot, .hoverlayer, .draglayer, .zoomlayer, .colorbar, rect.bg, defs")
    .forEach((node) => node.remove());
  copy.querySelectorAll("[clip-path]").forEach((node) => node.removeAttribute("clip-path"));
  copy.style.background = "none"; // Plotly paints the paper colour on its first svg
  return copy;
}

/** Every head's w(t-1) and four stages as columns over the rows on show (one subplot per head,
 *  its heatmap trace panel.trace), the argmax of each stage outlined. */
class StageFigure extends LayeredFigure {
  staticShapes(shapes) {
    return shapes.filter((shape) => shape.type === "line"); // the stage separators
  }

  outlineSpecs() {
    return this.spec.panels.flatMap(({ xref, yref }) => Array.from({ length: STAGE_COLUMNS }, () => ({ xref, yref, width: 3 })));
  }

  frame(t) {
    const a = this.player.arrays;
    const zs = [];
    const boxes = [];
    for (const { head, index } of this.spec.panels) {
      const previous = t > 0 ? at(a[`${head}.weights`], t - 1, index) : at(a[`${head}.previous0`], index);
      const columns = [previous, at(a[`${head}.content`], t, index), at(a[`${head}.gated`], t, index),
        at(a[`${head}.shifted`], t, index), at(a[`${head}.weights`], t, index)];
      const z = new Array(previous.length);
      for (let i = 0; i < previous.length; i++) {
        const row = new Float32Array(STAGE_COLUMNS);
        for (let s = 0; s < STAGE_COLUMNS; s++) row[s] = columns[s][i];
        z[i] = row;
      }
      zs.push(z);
      at(a[`${head}.argmax`], t, index).forEach((i, s) => boxes.push(i >= 0 ? [s - 0.5, s + 0.5, i - 0.5, i + 0.5] : null));
    }
    return { restyle: { z: zs }, traces: this.spec.panels.map((panel) => panel.trace), boxes };
  }
}

/** Memory after the write and the change, each on its own symmetric range (the change's colour
 *  bar stays live); the row the write head weighs most outlined in both. */
class MemoryFigure extends LayeredFigure {
  draw(Plotly, config, tmpl, t) {
    const names = this.spec.figure.data.map((d) => d.name);
    this.afterTrace = names.indexOf("after");
    this.changeTrace = names.indexOf("change");
    this.memoryAxes = [this.afterTrace, this.changeTrace].map((i) => this.spec.figure.data[i].xaxis || "x");
    return super.draw(Plotly, config, tmpl, t);
  }

  staticShapes() {
    return []; // its one shape, the written row, moves
  }

  outlineSpecs() {
    return this.memoryAxes.map((xref) => ({ xref, yref: "y", width: 2.5 }));
  }

  frame(t) {
    const p = this.player;
    const after = p.memoryAt(t);
    const before = p.memoryAt(t - 1);
    const change = after.map((row, i) => {
      const d = new Float64Array(row.length);
      for (let j = 0; j < row.length; j++) d[j] = row[j] - before[i][j];
      return d;
    });
    const zmax = absMax(after, 1);
    const dmax = absMax(change, 1e-6);
    const written = at(p.arrays.writtenIndex, t)[0];
    const box = written >= 0 ? [-0.5, p.columns - 0.5, written - 0.5, written + 0.5] : null;
    return {
      restyle: { z: [after, change], zmin: [-zmax, -dmax], zmax: [zmax, dmax] },
      traces: [this.afterTrace, this.changeTrace],
      boxes: this.memoryAxes.map(() => box),
    };
  }
}

const UPDATES = {
  /** Whole-episode grid: move the dotted cursor line of every panel. */
  grid(fig, t) {
    fig.Plotly.relayout(fig.div, { shapes: fig.cursorShapes(t) });
  },

  /** Target / output on the scored steps (a category axis: the line sits at the step's
   *  position); hidden on steps that are not scored. */
  targets(fig, t) {
    fig.Plotly.relayout(fig.div, { shapes: fig.cursorShapes(fig.player.scoredIndex[t]) });
  },

  /** A key, erase, add or read vector as bars; signed ones coloured by sign. */
  bars(fig, t) {
    const p = fig.player;
    const values = at(p.arrays[fig.spec.array], t, fig.spec.index);
    const colors = fig.spec.signed ? Array.from(values, (v) => (v >= 0 ? p.colors.positive : p.colors.negative)) : null;
    fig.bars.update(values, colors);
  },

  /** The shift kernel: bars, their labels and the y-range the builder gives them
   *  (ntm.figures.addressing.kernel_bar: [0, max(0.5, top) · 1.3]). */
  kernel(fig, t) {
    const values = at(fig.player.arrays[fig.spec.array], t, fig.spec.index);
    let top = 0;
    for (const v of values) top = Math.max(top, v);
    fig.bars.update(values, null, Array.from(values, (v) => fixed(v)), [0, Math.max(0.5, top) * 1.3]);
  },
};

// ------------------------------------------------------------------------------------------
// The player
// ------------------------------------------------------------------------------------------

class TracePlayer {
  constructor(host) {
    this.host = host;
    this.root = null;
    this.trigger = () => {};
    this.id = null;
    this.playing = false;
    this.speed = 3;
    this.raf = 0;
    this.syncTimer = 0;
    this.synced = null;
    this.stats = { frames: 0, log: [], drawn: [], firstDrawMs: null, decodeMs: null, payloadBytes: 0 };
    this.flushHandle = 0;
    this.onKey = (event) => this.key(event);
    document.addEventListener("keydown", this.onKey);
    this.resizer = new ResizeObserver((entries) => this.resized(entries));
    // Figures out of view are not restyled while the cursor moves (Plotly redraws a whole
    // figure, axes included, for new data: ~10-30 ms each): they catch up as they scroll into
    // view, and in idle time once the cursor stops.
    this.visibility = new IntersectionObserver((entries) => this.seen(entries), { rootMargin: "120px 0px" });
  }

  /** New data from the server: a new episode rebuilds; the same one keeps the cursor. */
  receive(bytes) {
    if (!bytes || !bytes.byteLength) return;
    const id = payloadId(bytes);
    if (id === this.id) return;
    const t0 = performance.now();
    loadPlotly().catch(() => {}); // under way while the payload is decoded (errors: drawFigures)
    const { header, arrays, bytes: size } = decodePayload(bytes);
    this.playing = false;
    cancelAnimationFrame(this.raf);
    clearTimeout(this.syncTimer);
    this.id = id;
    this.header = header;
    this.arrays = arrays;
    this.stats.payloadBytes = size;
    this.last = header.steps - 1;
    this.rows = header.rows;
    this.columns = header.memoryWidth; // M
    this.colors = header.colors;
    this.scoredIndex = new Int32Array(header.steps).fill(-1);
    header.scoredSteps.forEach((s, i) => { this.scoredIndex[s] = i; });
    this.rebuildMemory();
    this.stats.decodeMs = performance.now() - t0;
    this.t = header.start;
    this.synced = header.start;
    const reduced = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
    this.speed = reduced ? header.speeds[0] : header.defaultSpeed;
    this.build();
    this.showText(this.t, true);
    this.drawFigures(t0);
  }

  /** M_t for every step, rows on show, from M_0 and the writes (eqs. 3-4), float64. */
  rebuildMemory() {
    const a = this.arrays;
    const T = this.header.steps;
    const R = this.rows.length;
    const M = this.columns;
    const H = this.header.heads.write;
    const w = a["write.weights"].data;
    const e = a["write.erase"].data;
    const add = a["write.add"].data;
    const memory = new Float64Array((T + 1) * R * M);
    memory.set(a.memory0.data); // slot 0: M_0; slot t + 1: M_t
    for (let t = 0; t < T; t++) {
      const prev = t * R * M;
      const next = prev + R * M;
      for (let i = 0; i < R; i++) {
        for (let j = 0; j < M; j++) {
          let keep = 1;
          let plus = 0;
          for (let h = 0; h < H; h++) {
            const wi = w[(t * H + h) * R + i];
            keep *= 1 - wi * e[(t * H + h) * M + j];
            plus += wi * add[(t * H + h) * M + j];
          }
          memory[next + i * M + j] = memory[prev + i * M + j] * keep + plus;
        }
      }
    }
    this.memory = memory;
  }

  /** M_t (t = -1: M_0) as rows of views. */
  memoryAt(t) {
    const R = this.rows.length;
    const M = this.columns;
    const base = (t + 1) * R * M;
    const out = new Array(R);
    for (let i = 0; i < R; i++) out[i] = this.memory.subarray(base + i * M, base + (i + 1) * M);
    return out;
  }

  outline(x0, x1, y0, y1, width, xref, yref) {
    return { type: "rect", xref, yref, x0, x1, y0, y1, line: { color: this.colors.argmax, width } };
  }

  // ---- the page ---------------------------------------------------------------------------

  build() {
    this.destroyFigures();
    const h = this.header;
    const n = ++uid;
    const sliderId = `ntm-tp-slider-${n}`;
    this.host.replaceChildren();
    const button = (name, label, action, extra = {}) => {
      const b = el("button", { type: "button", class: `ctl ctl-${name}`, "data-action": name, ...extra }, [icon(name), el("span", { text: label })]);
      b.addEventListener("click", action);
      return b;
    };
    this.buttons = {
      first: button("first", "First", () => this.move(0), { title: "Go to step 0 (Home)" }),
      back: button("back", "Back", () => this.move(this.t - 1), { title: "One step back (←)" }),
      next: button("next", "Next", () => this.move(this.t + 1), { title: "One step forward (→)" }),
      last: button("last", "Last", () => this.move(this.last), { title: "Go to the last step (End)" }),
      play: button("play", "Play", () => this.togglePlay(), { class: "ctl ctl-play primary", "aria-pressed": "false", title: "Play / pause" }),
    };
    this.speedButtons = h.speeds.map((s) => {
      const b = el("button", { type: "button", class: "speed", "data-speed": String(s), "aria-pressed": String(s === this.speed), text: `${s}` });
      b.setAttribute("aria-label", `${s} step${s === 1 ? "" : "s"} per second`);
      b.addEventListener("click", () => this.setSpeed(s));
      return b;
    });
    this.slider = el("input", { type: "range", id: sliderId, class: "slider", min: "0", max: String(this.last), step: "1", value: String(this.t), "aria-label": "Time step" });
    this.slider.addEventListener("input", () => this.move(Number(this.slider.value), { fromSlider: true }));
    this.sliderValue = el("output", { class: "slider-value", for: sliderId, "aria-hidden": "true" });
    const bar = el("div", { class: "bar", role: "group", "aria-label": "Time cursor: ← → step, Home / End jump" }, [
      el("div", { class: "group steps" }, Object.values(this.buttons)),
      el("div", { class: "group speeds", role: "group", "aria-label": "Play speed, steps per second" }, [
        el("span", { class: "speed-label", text: "Speed, steps/s", "aria-hidden": "true" }), ...this.speedButtons,
      ]),
      el("div", { class: "group slide" }, [el("label", { for: sliderId, class: "slider-label", text: "t" }), this.slider, this.sliderValue]),
    ]);
    this.heading = el("h4", { class: "heading" });
    this.live = el("p", { class: "sr-only", "aria-live": "polite" });

    const kinds = { stages: StageFigure, memory: MemoryFigure };
    this.figures = h.figures.map((spec) => new (kinds[spec.kind] ?? Figure)(this, spec));
    const fig = (id) => this.figures.find((f) => f.spec.id === id)?.box ?? null;

    // Right of the grid: the narration with its "go to step" buttons, and this step's bits.
    const story = el("div", { class: "story" }, [el("h5", { text: "What the model does here" })]);
    h.narration.forEach(([sentence, step]) => {
      story.append(el("p", { html: inlineMarkdown(sentence) }));
      if (step !== null && step !== undefined) {
        const go = el("button", { type: "button", class: "goto", "data-goto": String(step), text: `Go to step ${step}` });
        go.addEventListener("click", () => this.move(step));
        story.append(go);
      }
    });
    this.stepBits = el("dl", { class: "bits" });
    const aside = el("aside", { class: "side" }, [
      story,
      el("hr"),
      el("h5", { text: "At this step" }),
      this.stepBits,
      el("p", { class: "caption", text: h.summary }),
    ]);

    // Per head (write heads, then read heads; one column each): β, g, γ above the stage panels
    // (one figure for every head), the key and shift, erase and add below them.
    this.metrics = [];
    const panels = fig("stages") ? this.figures.find((f) => f.spec.id === "stages").spec.panels : [];
    const headTop = ({ head: kind, index: i }) => {
      const metric = (sym, name, hint, array) => {
        const value = el("span", { class: "metric-value" });
        this.metrics.push({ value, array: `${kind}.${array}`, index: i });
        return el("div", { class: "metric", title: hint }, [el("span", { class: "metric-label", text: `${sym} ${name}` }), value]);
      };
      return el("div", { class: `heads heads-${kind}` }, [
        el("h5", { text: `${kind === "write" ? "Write" : "Read"} head ${i}` }),
        el("div", { class: "metrics" }, [
          metric("β", "key strength", "softplus: β > 0", "beta"),
          metric("g", "gate", "sigmoid: 1 = content, 0 = previous focus", "gate"),
          metric("γ", "sharpening", "1 + softplus: γ ≥ 1", "gamma"),
        ]),
      ]);
    };
    const headBottom = ({ head: kind, index: i }) => {
      const erase = fig(`${kind}${i}.erase`);
      return el("div", { class: "head-vectors" }, [
        el("div", { class: "pair key-shift" }, [fig(`${kind}${i}.key`), fig(`${kind}${i}.shift`)]),
        erase ? el("div", { class: "pair" }, [erase, fig(`${kind}${i}.add`)]) : null,
      ]);
    };
    const columns = (children) => {
      const grid = el("div", { class: "head-columns" }, children);
      grid.style.gridTemplateColumns = `repeat(${Math.max(1, panels.length)}, minmax(0, 1fr))`;
      return grid;
    };

    this.memoryCaption = el("p", { class: "caption" });
    const reads = el("div", { class: "reads" });
    for (let i = 0; i < h.heads.read; i++) reads.append(fig(`read${i}.vector`));
    reads.append(
      el("p", { class: "formula", html: "r<sub>t</sub> = Σ<sub>i</sub> w<sub>t</sub>(i) M<sub>t−1</sub>(i)", "aria-label": "r t equals the sum over i of w t of i times M t minus 1 of i" }),
      el("p", { class: "caption", text: "Reads use the memory as the step found it; the write happens after." }),
    );

    this.root = el("section", { class: "ntm-tp", "aria-label": `Trace player${h.title ? `: ${h.title}` : ""}`, "data-steps": String(h.steps) }, [
      bar,
      this.heading,
      this.live,
      el("div", { class: "overview" }, [fig("grid"), aside]),
      el("p", { class: "caption", text: `Below, memory is shown zoomed to the rows the heads use over the episode (${h.zoom}); hover any cell for its exact value. Outlined: the largest weight of each stage.` }),
      columns(panels.map(headTop)),
      fig("stages"),
      columns(panels.map(headBottom)),
      el("div", { class: "memory-row" }, [el("div", { class: "memory" }, [fig("memory"), this.memoryCaption]), reads]),
      fig("targets"),
    ]);
    this.root.ntmPlayer = this;
    this.status = el("p", { class: "status", role: "status", text: "Drawing the figures…" });
    this.root.insertBefore(this.status, this.heading.nextSibling);
    this.host.append(this.root);
  }

  async drawFigures(t0) {
    let Plotly;
    try {
      Plotly = await loadPlotly();
      this.stats.plotlyMs = performance.now() - t0;
    } catch (err) {
      this.status.textContent = `The figures cannot be drawn: ${err.message}`;
      this.status.classList.add("error");
      return;
    }
    const id = this.id;
    const font = getComputedStyle(this.host).fontFamily || "sans-serif";
    const text = getComputedStyle(this.host).color || "#31333f";
    const tmpl = template(font, text);
    // No "Share chart..." button: it would upload the figure to Plotly's cloud.
    const config = { displaylogo: false, showSendToCloud: false, responsive: false, toImageButtonOptions: { format: "png", scale: 2 } };
    for (const f of this.figures) {
      if (this.id !== id) return; // a newer episode arrived meanwhile
      await f.draw(Plotly, config, tmpl, this.t);
      this.resizer.observe(f.div);
      this.visibility.observe(f.box);
      this.stats.drawn.push([f.spec.id, Math.round(performance.now() - t0)]);
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the page paint meanwhile
    }
    this.status.remove();
    this.stats.firstDrawMs = performance.now() - t0;
    this.root.dataset.ready = "true";
    this.markSettled();
    this.filenames();
  }

  seen(entries) {
    for (const entry of entries) {
      const f = this.figures.find((x) => x.box === entry.target);
      if (!f) continue;
      f.visible = entry.isIntersecting;
      if (f.visible) f.show(this.t);
    }
    this.markSettled();
  }

  /** Bring the figures out of view up to the cursor, one per idle period. */
  scheduleFlush() {
    if (this.flushHandle) return;
    const idle = window.requestIdleCallback ?? ((fn) => setTimeout(fn, 16));
    const step = () => {
      this.flushHandle = 0;
      if (this.playing) return;
      const f = this.figures.find((x) => x.drawn && x.t !== this.t);
      if (f) {
        f.show(this.t);
        this.flushHandle = idle(step, { timeout: 300 });
      }
      this.markSettled();
    };
    this.flushHandle = idle(step, { timeout: 300 });
  }

  /** `data-settled`: every figure is drawn and shows the cursor's step (tests wait for it). */
  markSettled() {
    if (!this.root) return;
    const settled = this.figures.length > 0 && this.figures.every((f) => f.drawn && f.t === this.t);
    this.root.dataset.settled = String(settled);
  }

  destroyFigures() {
    for (const f of this.figures ?? []) {
      this.resizer.unobserve(f.div);
      this.visibility.unobserve(f.box);
      if (f.drawn && !f.svg) f.Plotly.purge(f.div);
    }
    this.figures = [];
  }

  resized(entries) {
    for (const entry of entries) {
      const f = this.figures.find((x) => x.div === entry.target);
      const width = Math.floor(entry.contentRect.width);
      if (f?.drawn && width > 0 && Math.abs(width - f.width) >= 2) {
        f.resize(width);
      }
    }
  }

  // ---- moving the cursor -------------------------------------------------------------------

  /** A step, a jump or the slider: stop playing, show, and tell the server once it is quiet. */
  move(t, { fromSlider = false } = {}) {
    if (this.playing) this.pause({ sync: false });
    t = Math.max(0, Math.min(this.last, Math.round(t)));
    this.show(t);
    if (!fromSlider) this.slider.value = String(t);
    this.scheduleSync();
  }

  /** Draw step t everywhere (figures restyled, text rewritten). */
  show(t) {
    if (t === this.t) return;
    this.t = t;
    for (const f of this.figures) if (f.visible) f.show(t);
    this.showText(t, !this.playing);
    this.markSettled();
    if (!this.playing) this.scheduleFlush();
    this.stats.frames++;
    this.stats.log.push([t, performance.now()]);
    if (this.stats.log.length > 4000) this.stats.log.splice(0, 2000);
  }

  showText(t, stopped) {
    const h = this.header;
    const a = this.arrays;
    this.root.dataset.t = String(t);
    this.slider.value = String(t);
    this.sliderValue.textContent = `${t} / ${this.last}`;
    this.heading.textContent = `t = ${t} of ${this.last}${h.phases[t] ? ` · ${h.phases[t]}` : ""}`;
    this.buttons.first.disabled = this.buttons.back.disabled = t <= 0;
    this.buttons.next.disabled = this.buttons.last.disabled = t >= this.last;
    for (const m of this.metrics) m.value.textContent = fixed(at(a[m.array], t)[m.index]);
    // This step's bits, wrong output bits marked.
    const rows = [["input", bits(at(a.inputs, t))]];
    const scored = at(a.scored, t)[0];
    this.stepBits.replaceChildren();
    this.stepBits.append(el("dt", { text: "input" }), el("dd", {}, [el("code", { text: rows[0][1] })]));
    if (scored) {
      const wrong = at(a.wrong, t);
      const out = at(a.predicted, t);
      const code = el("code");
      out.forEach((v, j) => code.append(wrong[j] ? el("mark", { class: "wrong", title: `bit ${j} is wrong`, text: String(v) }) : String(v)));
      const count = wrong.reduce((s, v) => s + v, 0);
      this.stepBits.append(
        el("dt", { text: "target" }), el("dd", {}, [el("code", { text: bits(at(a.targets, t)) })]),
        el("dt", { text: "output" }), el("dd", {}, [code, ` (${count} wrong)`]),
      );
    } else {
      this.stepBits.append(el("dt", { text: "output" }), el("dd", { text: "not scored at this step" }));
    }
    const written = at(a.written, t)[0];
    this.memoryCaption.textContent = `Outlined: row ${written}, where the write head's weight is largest at this step${at(a.writtenIndex, t)[0] < 0 ? " (outside the rows on show)" : ""}. The change is drawn on its own colour scale, so gentle writes show too.`;
    if (stopped) this.describe(t);
  }

  /** Text alternatives: one sentence per figure, and the step announced (only when stopped). */
  describe(t) {
    const a = this.arrays;
    const h = this.header;
    const row = (i) => this.rows[i];
    for (const f of this.figures) {
      const s = f.spec;
      let text = "";
      if (s.kind === "grid") {
        text = `The whole episode, ${h.steps} steps: inputs, add vectors and write weightings on the left; outputs, read vectors and read weightings on the right; the dotted line marks step ${t}.`;
      } else if (s.kind === "stages") {
        text = s.panels.map(({ head, index }) => {
          const w = at(a[`${head}.weights`], t, index);
          const c = at(a[`${head}.content`], t, index);
          return `${head} head ${index} at step ${t}: content weighting peaks at row ${row(argmax(c))} (${fixed(c[argmax(c)])}); the final weighting peaks at row ${row(argmax(w))} (${fixed(w[argmax(w)])}).`;
        }).join(" ");
      } else if (s.kind === "bars" || s.kind === "kernel") {
        const v = at(a[s.array], t, s.index);
        text = `${s.label} at step ${t}: ${Array.from(v, (x) => fixed(x)).join(", ")}.`;
      } else if (s.kind === "memory") {
        text = `Memory after the write at step ${t}, rows ${row(0)} to ${row(this.rows.length - 1)}: the write head's largest weight is on row ${at(a.written, t)[0]}.`;
      } else if (s.kind === "targets") {
        text = `Target and output bits on the ${h.scoredSteps.length} scored steps, wrong output bits marked with a cross; ${this.scoredIndex[t] >= 0 ? `step ${t} is marked` : `step ${t} is not scored`}.`;
      }
      f.alt.textContent = text;
    }
    this.live.textContent = `Step ${t} of ${this.last}${h.phases[t] ? `, ${h.phases[t]}` : ""}.`;
    this.filenames();
  }

  /** PNG exports are named after the figure and the step. */
  filenames() {
    for (const f of this.figures) {
      const name = `ntm_${f.spec.id.replace(/\W+/g, "_")}_t${this.t}`;
      if (f.bars) f.bars.filename = () => name;
      const opts = f.div?._context?.toImageButtonOptions;
      if (opts) opts.filename = name;
    }
  }

  // ---- play --------------------------------------------------------------------------------

  togglePlay() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (this.t >= this.last) this.show(0);
    this.playing = true;
    this.playFrom = this.t;
    this.playStart = performance.now();
    this.root.dataset.playing = "true";
    this.playLabel("pause", "Pause");
    clearTimeout(this.syncTimer);
    const tick = (now) => {
      if (!this.playing) return;
      // A frame's timestamp can precede the click that started playing: never step back.
      const elapsed = Math.max(0, now - this.playStart);
      const target = Math.min(this.last, this.playFrom + Math.floor((elapsed * this.speed) / 1000));
      if (target !== this.t) this.show(target);
      if (target >= this.last) {
        this.pause();
        return;
      }
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  pause({ sync = true } = {}) {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.root.dataset.playing = "false";
    this.playLabel("play", "Play");
    this.showText(this.t, true);
    this.scheduleFlush();
    if (sync) this.scheduleSync(0);
  }

  playLabel(name, label) {
    const b = this.buttons.play;
    b.replaceChildren(icon(name), el("span", { text: label }));
    b.setAttribute("aria-pressed", String(name === "pause"));
  }

  setSpeed(s) {
    this.speed = s;
    for (const b of this.speedButtons) b.setAttribute("aria-pressed", String(Number(b.dataset.speed) === s));
    if (this.playing) {
      this.playFrom = this.t;
      this.playStart = performance.now();
    }
  }

  // ---- the server hears where the cursor stopped -------------------------------------------

  scheduleSync(delay = SYNC_QUIET_MS) {
    clearTimeout(this.syncTimer);
    this.syncTimer = setTimeout(() => {
      if (this.playing || this.t === this.synced) return;
      this.synced = this.t;
      this.trigger("stop", this.t);
    }, delay);
  }

  // ---- keys --------------------------------------------------------------------------------

  key(event) {
    if (!this.root || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    const inside = this.root.contains(target);
    // Outside the player only when nothing else has the focus; the slider handles its own keys.
    if (!inside && target !== document.body && target !== document.documentElement) return;
    if (target === this.slider) return;
    const moves = { ArrowLeft: this.t - 1, ArrowRight: this.t + 1, Home: 0, End: this.last };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this.move(moves[event.key]);
  }

  destroy() {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    clearTimeout(this.syncTimer);
    document.removeEventListener("keydown", this.onKey);
    this.resizer.disconnect();
    this.visibility.disconnect();
    this.destroyFigures();
  }
}

/** Streamlit components v2 entry point: called on mount and whenever the element is sent. */
export default function mountTracePlayer(component) {
  const { data, parentElement, setTriggerValue } = component;
  let host = parentElement.querySelector(".ntm-trace-player");
  if (!host) {
    host = document.createElement("div");
    host.className = "ntm-trace-player";
    parentElement.append(host);
  }
  let player = PLAYERS.get(parentElement);
  if (!player || player.host !== host) {
    player?.destroy();
    player = new TracePlayer(host);
    PLAYERS.set(parentElement, player);
  }
  player.trigger = setTriggerValue;
  try {
    player.receive(data);
  } catch (err) {
    host.replaceChildren(el("p", { class: "status error", role: "alert", text: `The trace player cannot show this episode: ${err.message}` }));
    throw err;
  }
  return () => {
    player.destroy();
    PLAYERS.delete(parentElement);
  };
}
