// NTM Explorer: the four addressing stages of Graves, Wayne & Danihelka (2014), eqs. 5-9,
// computed in float64 and drawn in the browser while a control is dragged.
//
// Part 1 is the arithmetic, a line-for-line port of ntm/addressing.py with the same numerics
// (max-subtracted softmax, sqrt(|x|^2 + eps^2) norms, sharpening as
// softmax(gamma * log max(w~, 1e-30)), offset +1 moves weight from row i to row i + 1). It is
// exposed as window.ntmAddressing so the browser tests can prove it against PyTorch.
//
// Part 2 is a Streamlit components-v2 component (the default export). It draws the previous
// focus and the four stages as the heatmaps of one Plotly figure (the Plotly.js that the
// installed plotly package ships, served by this server: loadPlotly() is prepended by
// ntm/app/addressing_panel.py) and, on every `input` event throttled to animation frames,
// redraws only what changed: the z of the stages that moved (painted in Plotly.js's colours on a
// canvas over its image while a control moves, handed to Plotly.restyle once it rests: showZ)
// and their argmax outlines. It talks
// to the server only on release: one setTriggerValue("release", controls) per finished gesture,
// never while a control is held. Each frame's w is also published on window.ntmLive, where the
// read and write figures further down the page (live_figures.js) pick it up.

// ------------------------------------------------------------------------------------------
// Part 1: exact arithmetic (float64)
// ------------------------------------------------------------------------------------------

/** Added (squared) inside the cosine norms, as ntm.addressing.EPS. */
const EPS = 1e-8;
/** Weights are floored here before the log in sharpen(), as ntm.addressing.LOG_FLOOR. */
const LOG_FLOOR = 1e-30;

/** softmax(x) with the maximum subtracted first (what torch.softmax does). */
function softmax(x) {
  const n = x.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[i] > max) max = x[i];
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    out[i] = Math.exp(x[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < n; i++) out[i] /= sum;
  return out;
}

/** |x| computed as sqrt(|x|^2 + eps^2): 0 vectors give a finite, non-zero norm. */
function norm(x) {
  let s = 0;
  for (let j = 0; j < x.length; j++) s += x[j] * x[j];
  return Math.sqrt(s + EPS * EPS);
}

/** Eq. 6: cosine similarity K[k, M(i)] of the key with every row; 0 for zero rows or key. */
function similarity(memory, key) {
  const n = memory.length;
  const keyNorm = norm(key);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = memory[i];
    let dot = 0;
    for (let j = 0; j < key.length; j++) dot += row[j] * key[j];
    out[i] = dot / (norm(row) * keyNorm);
  }
  return out;
}

/** Eq. 5: w^c(i) = softmax_i(beta * K[k, M(i)]). */
function contentWeighting(memory, key, beta) {
  const sim = similarity(memory, key);
  for (let i = 0; i < sim.length; i++) sim[i] *= beta;
  return softmax(sim);
}

/** Eq. 7: w^g = g * w^c + (1 - g) * w_{t-1}. */
function interpolate(content, previous, gate) {
  const out = new Float64Array(content.length);
  for (let i = 0; i < content.length; i++) {
    out[i] = gate * content[i] + (1 - gate) * previous[i];
  }
  return out;
}

/**
 * Eq. 8, circular convolution: w~(i) = sum_j w^g(j) s(i - j), indices mod N.
 * kernel has 2R + 1 entries for offsets -R .. +R; s(+1) = 1 moves every weight one row down.
 */
function shift(weighting, kernel) {
  const n = weighting.length;
  const width = kernel.length;
  if (width % 2 !== 1) throw new Error(`shift kernel needs 2R+1 entries, got ${width}`);
  if (width > n) throw new Error(`shift kernel of ${width} entries does not fit ${n} rows`);
  const radius = (width - 1) / 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = -radius; d <= radius; d++) {
      s += weighting[(((i - d) % n) + n) % n] * kernel[d + radius];
    }
    out[i] = s;
  }
  return out;
}

/** Eq. 9: w(i) = w~(i)^gamma / sum_j w~(j)^gamma, as softmax(gamma * log max(w~, 1e-30)). */
function sharpen(weighting, gamma) {
  const logits = new Float64Array(weighting.length);
  for (let i = 0; i < weighting.length; i++) {
    logits[i] = gamma * Math.log(Math.max(weighting[i], LOG_FLOOR));
  }
  return softmax(logits);
}

/** Eqs. 5 -> 7 -> 8 -> 9 for one head; returns every stage (Float64Arrays of length N). */
function address(memory, key, beta, gate, kernel, gamma, previous) {
  const content = contentWeighting(memory, key, beta);
  const gated = interpolate(content, previous, gate);
  const shifted = shift(gated, kernel);
  return { content, gated, shifted, sharpened: sharpen(shifted, gamma) };
}

/** The kernel s: raw slider weights divided by their sum; all zero gives s(0) = 1. */
function normaliseKernel(raw) {
  let total = 0;
  for (const v of raw) total += v;
  const out = new Float64Array(raw.length);
  if (!(total > 0)) {
    out[(raw.length - 1) / 2] = 1;
    return out;
  }
  for (let i = 0; i < raw.length; i++) out[i] = raw[i] / total;
  return out;
}

/** The focus before any step: one-hot at row j, or uniform 1/N. */
function startWeighting(n, mode, row) {
  const w = new Float64Array(n);
  if (mode === "uniform") w.fill(1 / n);
  else w[Math.min(Math.max(row | 0, 0), n - 1)] = 1;
  return w;
}

/** The offsets -R .. +R of a radius, and the raw weights of those offsets. */
function usedKernel(controls) {
  const r = controls.R;
  return controls.kernel.slice(MAX_RADIUS - r, MAX_RADIUS + r + 1);
}

/**
 * Everything the panel shows for one state: w_{t-1} is the start focus after `steps`
 * applications of the same pipeline (each step's w is the next step's w_{t-1}), as on the
 * server; then one more pass gives the four stages.
 */
function run(memory, key, controls) {
  const n = memory.length;
  const kernel = normaliseKernel(usedKernel(controls));
  const content = contentWeighting(memory, key, controls.beta);
  const pass = (previous) => {
    const gated = interpolate(content, previous, controls.g);
    const shifted = shift(gated, kernel);
    return { gated, shifted, sharpened: sharpen(shifted, controls.gamma) };
  };
  let previous = startWeighting(n, controls.prev, controls.prow);
  for (let t = 0; t < controls.steps; t++) previous = pass(previous).sharpened;
  return {
    similarity: similarity(memory, key),
    kernel,
    previous,
    content,
    ...pass(previous),
  };
}

const api = {
  EPS,
  LOG_FLOOR,
  softmax,
  similarity,
  contentWeighting,
  interpolate,
  shift,
  sharpen,
  address,
  normaliseKernel,
  startWeighting,
  run,
};
globalThis.ntmAddressing = api;

// ------------------------------------------------------------------------------------------
// Part 2: the component
// ------------------------------------------------------------------------------------------

const MAX_RADIUS = 3;
/** Positions of the log-like beta and gamma sliders (0 .. STEPS). */
const STEPS = 200;
/** Fallbacks; the server sends its own limits, defaults and colour scale in `data`. */
const LIMITS = { betaMax: 100, gammaMax: 50, maxSteps: 64 };
const DEFAULTS = {
  prev: "onehot",
  prow: 0,
  steps: 0,
  beta: 10,
  g: 0.8,
  R: 1,
  kernel: [0, 0, 0, 1, 0.2, 0, 0],
  gamma: 2,
};
/**
 * The weighting colour scale comes with the data (`data.colorscale`, the app's colour choice:
 * ntm.figures.style.WEIGHTING_SCALES); this plain grey ramp only fills in until the first data
 * arrives, in the same call that builds the panel.
 */
const FALLBACK_COLORSCALE = [
  [0.0, "#ffffff"],
  [1.0, "#000000"],
];
const ARGMAX_COLOR = "#1f4e9c";
const GRID_COLOR = "#d4d4d4";
/** Keys that move a focused slider or number field; held, they defer the release. */
const MOVE_KEYS = new Set([
  "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End",
]);

const STAGES = [
  {
    id: "previous",
    symbol: "w(t−1)",
    title: "previous",
    eqn: "input",
    html: "w<sub>t−1</sub>",
    text: "Where the head was focused last step. Apply again feeds w back in as w(t−1).",
  },
  {
    id: "content",
    symbol: "wᶜ",
    title: "content",
    eqn: "eqs. 5–6",
    html: "w<sup>c</sup>(i) = softmax<sub>i</sub>(β · K[k, M(i)])",
    text: "Cosine match of the key with every row, then a softmax: large β picks the best row.",
  },
  {
    id: "gated",
    symbol: "wᵍ",
    title: "gated",
    eqn: "eq. 7",
    html: "w<sup>g</sup> = g · w<sup>c</sup> + (1 − g) · w<sub>t−1</sub>",
    text: "g = 1 keeps the content focus, g = 0 keeps the previous focus.",
  },
  {
    id: "shifted",
    symbol: "w̃",
    title: "shifted",
    eqn: "eq. 8",
    html: "w̃(i) = Σ<sub>j</sub> w<sup>g</sup>(j) · s(i − j)",
    text: "Circular shift by s: offset +1 moves weight one row down; the last row wraps to 0.",
  },
  {
    id: "sharpened",
    symbol: "w",
    title: "sharpened",
    eqn: "eq. 9",
    html: "w(i) = w̃(i)<sup>γ</sup> / Σ<sub>j</sub> w̃(j)<sup>γ</sup>",
    text: "Raise to the power γ and renormalise: the largest weights win back the focus.",
  },
];

/**
 * The controls the panel can show, each in its stage's card (CONTROL_HOME). A host may show only
 * some of them (`data.show.controls`, e.g. a lesson step's own); a shown control whose card is
 * hidden (`data.show.stages`) moves to the first card shown.
 */
const CONTROL_NAMES = ["prev", "prow", "steps", "reset", "beta", "g", "kernel", "gamma"];
const CONTROL_HOME = {
  prev: "previous", prow: "previous", steps: "previous", reset: "previous",
  beta: "content", g: "gated", kernel: "shifted", gamma: "sharpened",
};
/**
 * The reveal (a lesson's answer): each stage grows out of the one before it in the pipeline, as
 * the equations make it (wᶜ out of the uniform weighting a β of 0 gives, wᵍ out of w(t−1) as g
 * rises from 0, ...), one after another. Short transitions with a pause between them: slow
 * linked motion tires the eye.
 */
const GROWS_FROM = {
  previous: null, content: "uniform", gated: "previous", shifted: "gated", sharpened: "shifted",
};
const REVEAL_MS = 400;
const REVEAL_PAUSE_MS = 150;
/** A busy machine drops animation frames: each stage still gets at least this many (it then
 * takes longer), so the growth is seen rather than a jump. */
const REVEAL_MIN_FRAMES = 8;
/** The outline round a student's guess: dashed and orange, unlike the argmax's solid blue. */
const GUESS_COLOR = "#d94801";

/** Above and below the rows: room for the argmax outline around the first and last row (px). */
const PAD_Y = 4;
/** How long the controls rest before Plotly.js's figure takes the z the canvas shows (showZ). */
const SYNC_MS = 120;
let instances = 0;

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "html") node.innerHTML = v; // only our own constant markup
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

/** A number as people write it: at most 3 significant digits, no trailing zeros. */
function fmt(v, digits = 3) {
  if (!Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(digits)));
}

/** Minus signs that a projector shows as minus signs. */
function signed(v, digits = 2) {
  const s = (v + 0).toFixed(digits);
  return v >= 0 ? `+${s}` : `−${s.slice(1)}`;
}

function offsetLabel(d) {
  return d === 0 ? "0" : d > 0 ? `+${d}` : `−${-d}`;
}

/** Text and attributes are written only when they change: writing the same text still
 *  replaces the text node and makes the browser lay the panel out again, on every frame. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function clamp(v, lo, hi) {
  return Math.min(Math.max(v, lo), hi);
}

/** beta = 0.1 (1001^u - 1): 0 at the left end, 100 at the right, 3 at the middle. */
const betaScale = {
  toValue: (p, max) => {
    const b = 0.1 * (Math.pow(max / 0.1 + 1, p / STEPS) - 1);
    return Number(b.toPrecision(3));
  },
  toPosition: (v, max) => Math.round((STEPS * Math.log(v / 0.1 + 1)) / Math.log(max / 0.1 + 1)),
};
/** gamma = max^u: 1 at the left end, finer steps near 1 where it matters most. */
const gammaScale = {
  toValue: (p, max) => Number(Math.pow(max, p / STEPS).toPrecision(3)),
  toPosition: (v, max) => Math.round((STEPS * Math.log(v)) / Math.log(max)),
};

/** An "#rgb", "#rrggbb" or "rgb(r, g, b)" colour as [r, g, b]; null for anything else. */
function parseColour(colour) {
  const text = String(colour).trim();
  let m = /^#([0-9a-f]{6})$/i.exec(text);
  if (m) return [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
  m = /^#([0-9a-f]{3})$/i.exec(text);
  if (m) return [...m[1]].map((h) => parseInt(h + h, 16));
  m = /^rgb\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*\)$/i.exec(text);
  return m ? m.slice(1, 4).map(Number) : null;
}

/**
 * The colour Plotly.js's heatmap paints for a value v in [zmin, zmax] = [0, 1]: its colour scale
 * is d3 v3's clamped piecewise-linear scale over the stops (bisectRight for the segment,
 * t = clamp((v - a) / (b - a)), each channel c0·(1 − t) + c1·t) and each channel is rounded.
 * Written out here with the same operations, so the same bytes (tested against Plotly.js's own
 * image: tests/browser/figure_pixels.py). Null if a stop's colour is in a form parseColour does
 * not read: the panel then leaves every frame to Plotly.restyle.
 */
function pixelScale(scale) {
  const stops = scale.map(([t]) => Number(t));
  const colours = scale.map(([, c]) => parseColour(c));
  const k = stops.length - 1;
  if (k < 1 || colours.some((c) => !c) || stops.some((t, i) => i > 0 && t < stops[i - 1])) return null;
  return (v) => {
    let lo = 1;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (stops[mid] > v) hi = mid;
      else lo = mid + 1;
    }
    const j = lo - 1;
    const a = stops[j];
    let b = stops[j + 1] - a;
    b = b || 1 / b;
    const t = Math.max(0, Math.min(1, (v - a) / b));
    const c0 = colours[j];
    const c1 = colours[j + 1];
    return [0, 1, 2].map((i) => Math.round(c0[i] * (1 - t) + c1[i] * t));
  };
}

/** A 256-entry lookup table of the scale's CSS colours (the legend) and whether each is dark
 *  (the values written in the cells turn white on it), from pixelScale's colours. */
function colourTable(pixels) {
  const table = [];
  const dark = [];
  for (let i = 0; i < 256; i++) {
    const c = pixels(i / 255);
    table.push(`rgb(${c[0]},${c[1]},${c[2]})`);
    dark.push(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2] < 128);
  }
  return { table, dark };
}

/** The stage figure's z (n rows): row i holds the shown stages' weights at row i (its columns). */
function heatmapZ(stages, n) {
  return Array.from({ length: n }, (_, i) => stages.map((w) => w[i]));
}

/** Whether two weightings hold the same numbers (a stage that did not change is not redrawn). */
function sameArray(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}



function publishWeighting(channel, value) {
  const bus = liveBus();
  bus.latest.set(channel, value);
  bus.events.dispatchEvent(new CustomEvent(channel, { detail: value }));
}

/** Text with **bold** parts, as DOM nodes (no HTML is parsed). */
function richText(text) {
  return String(text).split("**").map((part, i) => (i % 2 ? el("strong", { text: part }) : document.createTextNode(part)));
}

function sameControls(a, b) {
  return a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

class Panel {
  constructor(host) {
    this.uid = `ntm-ap-${++instances}`;
    this.host = host;
    this.trigger = null;
    this.limits = { ...LIMITS };
    this.defaults = structuredClone(DEFAULTS);
    this.controls = structuredClone(DEFAULTS);
    this.lastIncoming = null; // the controls of the last data the server sent
    this.revision = undefined; // the server's count of the times it set the controls itself
    this.sent = []; // controls reported but not yet echoed back by the server
    this.lastReported = null;
    this.memory = [[0]];
    this.key = [0];
    this.rowLabels = null;
    this.n = 0;
    this.frame = 0;
    this.pending = false; // a change that has not been reported yet
    this.keysHeld = new Set();
    this.pointerHeld = false;
    this.drawQueued = false;
    this.frameBusy = false; // a frame has drawn (schedule)
    this.colorscale = FALLBACK_COLORSCALE;
    this.pixels = pixelScale(FALLBACK_COLORSCALE);
    this.colours = colourTable(this.pixels);
    this.pendingZ = null; // z on the canvas that Plotly.js's figure does not hold yet
    this.painted = 0;
    this.channel = "playground";
    this.token = "";
    this.argmaxColour = ARGMAX_COLOR;
    this.gridColour = GRID_COLOR;
    // What the host chose to show (all of it unless it says otherwise: the playground).
    this.shown = STAGES;
    this.showControls = new Set(CONTROL_NAMES);
    this.locked = new Set();
    this.grids = { beta: null, gamma: null };
    this.kernelChoices = null;
    this.guesses = [];
    this.reduceMotion = false;
    this.revealId = null; // the last reveal the server asked for
    this.revealQueued = null; // its stages, until the figure is there to animate them
    this.anim = null;
    this.build();
    this.onPointerUp = () => {
      if (!this.pointerHeld) return;
      this.pointerHeld = false;
      this.maybeReport();
    };
    window.addEventListener("pointerup", this.onPointerUp);
    window.addEventListener("pointercancel", this.onPointerUp);
  }

  destroy() {
    this.stopReveal();
    clearTimeout(this.syncTimer);
    window.removeEventListener("pointerup", this.onPointerUp);
    window.removeEventListener("pointercancel", this.onPointerUp);
    this.resizer?.disconnect();
    if (this.Plotly) this.Plotly.purge(this.figure);
  }

  // ---- building the DOM (once; the stage columns again when N changes) -------------------

  id(name) {
    return `${this.uid}-${name}`;
  }

  /** A labelled range input with an optional number field and a value readout. */
  slider(name, label, { min, max, step, hint = "", number = null }) {
    const range = el("input", {
      type: "range", id: this.id(name), min, max, step, "data-control": name,
    });
    const row = el("div", { class: "slider-row" }, [range]);
    let field = null;
    if (number) {
      field = el("input", {
        type: "number", id: this.id(`${name}-number`), min: number.min, max: number.max,
        step: number.step, inputmode: "decimal", "data-control": `${name}-number`,
        "aria-label": `${label}, type a value`,
      });
      row.append(field);
    }
    const out = el("output", { for: range.id, class: "value" });
    const labelEl = el("label", { for: range.id, text: label });
    const head = el("div", { class: "label-row" }, [labelEl, out]);
    const box = el("div", { class: "control" }, [head, row]);
    if (hint) box.append(el("div", { class: "hint", text: hint }));
    return { box, range, field, out, label: labelEl };
  }

  build() {
    const root = el("div", { class: "ntm-ap-root" });
    this.root = root;
    const grid = el("div", { class: "stages" });
    root.append(grid);
    this.cards = {};

    // Previous focus: start mode, row j, steps applied, Apply again, Restart.
    const modeName = this.id("prev");
    const onehot = el("input", { type: "radio", name: modeName, id: this.id("prev-onehot"), value: "onehot" });
    const uniform = el("input", { type: "radio", name: modeName, id: this.id("prev-uniform"), value: "uniform" });
    const modes = el("fieldset", { class: "modes" }, [
      el("legend", { text: "Start from" }),
      el("span", { class: "radio" }, [onehot, el("label", { for: onehot.id, text: "row j" })]),
      el("span", { class: "radio" }, [uniform, el("label", { for: uniform.id, text: "uniform" })]),
    ]);
    const prow = this.slider("prow", "Focus row j", { min: 0, max: 15, step: 1 });
    const stepsText = el("div", { class: "steps", "aria-live": "polite" });
    const apply = el("button", { type: "button", "data-control": "apply", text: "Apply again ↻" });
    const restart = el("button", { type: "button", "data-control": "restart", text: "Restart t = 0" });
    const reset = el("button", { type: "button", class: "link", "data-control": "reset", text: "Reset stage controls" });
    this.inputs = { onehot, uniform, prow, apply, restart, reset, stepsText };

    const beta = this.slider("beta", "Key strength β", {
      min: 0, max: STEPS, step: 1, hint: "β > 0, from a softplus",
      number: { min: 0, max: this.limits.betaMax, step: "any" },
    });
    const gate = this.slider("g", "Gate g", {
      min: 0, max: 1, step: 0.01, hint: "g ∈ (0, 1), from a sigmoid",
      number: { min: 0, max: 1, step: 0.01 },
    });
    const radius = this.slider("R", "Shift range R", { min: 1, max: MAX_RADIUS, step: 1 });
    const kernelBox = el("div", { class: "kernel" });
    const gamma = this.slider("gamma", "Sharpening γ", {
      min: 0, max: STEPS, step: 1, hint: "γ ≥ 1, from 1 + softplus",
      number: { min: 1, max: this.limits.gammaMax, step: "any" },
    });
    const kernelNote = el("div", { class: "hint" });
    // Named kernels (a lesson's "+1", "+3", ".3 / .5 / .2"): radio buttons instead of the
    // sliders, filled when the data brings them.
    const kernelChoice = el("fieldset", { class: "modes kernel-choice" }, [
      el("legend", { text: "Shift kernel s" }),
    ]);
    Object.assign(this.inputs, { beta, gate, radius, gamma, kernelBox, kernelNote, kernelChoice });

    // Each control's elements, by name (see CONTROL_NAMES); arrangeControls() puts the shown
    // ones in their cards.
    this.boxes = {
      prev: [modes],
      prow: [prow.box],
      steps: [stepsText, el("div", { class: "buttons" }, [apply, restart])],
      reset: [reset],
      beta: [beta.box],
      g: [gate.box],
      kernel: [radius.box, kernelBox, kernelNote],
      gamma: [gamma.box],
    };
    for (const [name, parts] of Object.entries(this.boxes)) {
      for (const part of parts) part.dataset.box = name;
    }
    kernelChoice.dataset.box = "kernel";
    this.labels = {
      prev: modes.firstChild, prow: prow.label, beta: beta.label, g: gate.label,
      kernel: radius.label, gamma: gamma.label,
    };
    for (const label of Object.values(this.labels)) label.dataset.text = label.textContent;
    for (const stage of STAGES) {
      const live = el("p", { class: "live", "aria-live": "off" });
      const explain = el("p", { class: "explain", id: this.id(`${stage.id}-text`), text: stage.text });
      // The stage's place in the one Plotly figure below: its text alternative and its data.
      const alt = el("div", {
        role: "img",
        "aria-describedby": explain.id,
        class: "heatmap",
        "data-stage": stage.id,
      });
      const eq = el("div", { class: "eq", html: stage.html });
      const controls = el("div", { class: "card-controls" });
      const guess = el("p", { class: "guess", "aria-live": "off" });
      const card = el("section", { class: "card", "data-stage": stage.id, "aria-label": `${stage.symbol} ${stage.title}` }, [
        controls,
        el("h3", {}, [
          el("span", { class: "symbol", text: stage.symbol }),
          ` ${stage.title} `,
          el("span", { class: "eqn", text: `· ${stage.eqn}` }),
        ]),
        eq,
        el("div", { class: "plot" }, [alt]),
        el("div", {}, [live, guess]),
        explain,
      ]);
      card.style.gridColumn = String(STAGES.indexOf(stage) + 1);
      grid.append(card);
      this.cards[stage.id] = { card, alt, live, guess, eq, explain, controls, text: stage.text };
    }
    this.grid = grid;
    this.arrangeControls();
    // One Plotly figure holds the five stage heatmaps: it lies over the cards' plot row, each
    // subplot over its own card (one restyle per frame instead of five figures' worth).
    this.rowNumbers = el("div", { class: "row-numbers" });
    this.figure = el("div", { class: "plotly-figure" });
    this.overlay = svgEl("svg", { class: "figure-overlay" });
    this.outlineSvg = svgEl("svg", { class: "stage-outlines" });
    this.cellValues = el("div", { class: "cell-values" });
    this.fastCanvas = el("canvas");
    this.fastLayer = el("div", { class: "fast-frame" }, [this.fastCanvas]);
    this.fastLayer.hidden = true;
    grid.append(el("div", { class: "stage-figure", "aria-hidden": "true" }, [
      this.rowNumbers, this.figure, this.overlay, this.cellValues,
    ]));

    this.legendText = el("span", { class: "legend-text", text: "Colour = weight, from 0 to 1; the blue outline marks the largest weight. Hover a cell for its exact value." });
    const legend = el("div", { class: "legend" }, [
      el("span", { class: "swatch", "aria-hidden": "true" }),
      this.legendText,
    ]);
    legend.firstChild.append(el("span", { text: "0" }), el("span", { text: "1" }));
    this.legendSwatch = legend.firstChild;
    this.table = el("table", { class: "numbers" });
    const details = el("details", {}, [el("summary", { text: "The numbers as a table" }), this.table]);
    details.addEventListener("toggle", () => this.schedule());
    this.details = details;
    root.append(legend, details);
    this.host.replaceChildren(root);
    this.listen();
    this.resizer = new ResizeObserver(() => this.queueGeometry());
    this.resizer.observe(this.figure.parentElement);
    loadPlotly().then(
      (Plotly) => {
        this.Plotly = Plotly;
        adoptPlotlyStyles(this.host);
        this.plotFigure();
      },
      (err) => {
        this.root.dataset.error = String(err);
      },
    );
  }

  /** Sizes for N rows: the cell height, and whether the values are written in the cells. */
  buildColumns(n) {
    this.n = n;
    const cell = n <= 16 ? 26 : n <= 32 ? 20 : Math.max(3, Math.floor(512 / n));
    this.layout = { cell, showText: cell >= 20, height: n * cell + 2 * PAD_Y };
    for (const stage of STAGES) {
      this.cards[stage.id].alt.style.height = `${this.layout.height}px`;
    }
    this.figure.parentElement.style.height = `${this.layout.height}px`;
    this.plotted = false;
    if (this.Plotly) this.plotFigure();
  }

  /**
   * Where the stage columns lie, in the figure's x units (pixels from its left edge, which is
   * the first card's): column c spans cols[c], its card's width. The cards are equal grid
   * columns, so the columns repeat every `pitch` pixels.
   */
  geometry() {
    const box = this.figure.parentElement.getBoundingClientRect();
    const width = Math.max(Math.round(box.width), 100);
    const cols = this.shown.map((stage) => {
      const r = this.cards[stage.id].alt.getBoundingClientRect();
      const x0 = r.left - box.left;
      return [x0, Math.max(x0 + 10, r.right - box.left)];
    });
    const k = cols.length;
    const pitch = (k > 1 && (cols[k - 1][0] - cols[0][0]) / (k - 1)) || cols[0][1] - cols[0][0] + 16;
    return { width, cols, pitch, centre0: (cols[0][0] + cols[0][1]) / 2 };
  }

  /**
   * The figure, built once per N and per width (never per frame): one heatmap holds the five
   * stages as its five columns (N × 5, evenly spaced, so Plotly.js paints it as a 5 × N image).
   * Its axes are categories, the stages' symbols and the rows' names, so the hover label names
   * both with no per-cell text to reprocess on each restyle. A frame restyles z alone and moves
   * the outlines, SVG rectangles over the plot. What never changes is drawn over it once
   * (drawOverlay), and the values written in the cells (N ≤ 32) are HTML over that; all of it
   * lies under Plotly.js's hover labels (placeLayers). The row numbers are HTML beside it.
   */
  plotFigure() {
    const n = this.n;
    const { cell, showText, height } = this.layout;
    const geo = this.geometry();
    this.geo = geo;
    const rows = Array.from({ length: n }, (_, i) => i);
    const step = n <= 24 ? 1 : n <= 48 ? 2 : n <= 160 ? 16 : 32;
    const background = getComputedStyle(this.root).getPropertyValue("--ap-bg").trim() || "#ffffff";
    // The first frame goes into the figure itself: one render, not a render and a restyle.
    const first = this.frameData();
    const heat = {
      type: "heatmap", z: first ? first.z : rows.map(() => this.shown.map(() => 0)),
      x: this.shown.map((stage) => stage.symbol), y: rows.map((i) => `row ${i}${this.label(i, " ")}`),
      zmin: 0, zmax: 1, zauto: false, colorscale: this.colorscale, showscale: false,
      hovertemplate: "%{y}<br>%{x} = %{z:.6g}<extra></extra>",
    };
    this.layout.inset = cell >= 12 ? 2 : 0;
    const values = [];
    if (showText) {
      for (const [x0, x1] of geo.cols) {
        // The values written in the cells: text over the figure (it does not take the pointer).
        for (let i = 0; i < n; i++) {
          values.push(el("span", {
            style: `left: ${x0}px; width: ${x1 - x0}px; top: ${PAD_Y + i * cell}px; `
              + `height: ${cell}px; line-height: ${cell}px`,
          }));
        }
      }
    }
    this.cellValues.replaceChildren(...values);
    this.valueSpans = values;
    this.drawOutlines(geo, first ? first.best : this.shown.map(() => null));
    this.drawOverlay(geo, n, cell, background);
    const layout = {
      width: geo.width,
      height,
      margin: { l: 0, r: 0, t: PAD_Y, b: PAD_Y, pad: 0 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: background,
      font: { family: "Source Sans Pro, Source Sans 3, system-ui, sans-serif", size: 13, color: "#31333f" },
      showlegend: false,
      hovermode: "closest",
      hoverlabel: { font: { size: 14 } },
      dragmode: false,
      // No axes to redraw per frame: the row numbers are HTML beside the figure.
      // In category units: column c is centred on its card, one pitch wide.
      xaxis: { visible: false, type: "category", range: [-geo.centre0 / geo.pitch, (geo.width - geo.centre0) / geo.pitch], fixedrange: true },
      yaxis: { visible: false, type: "category", range: [n - 0.5, -0.5], fixedrange: true },
    };
    this.rowNumbers.replaceChildren(...rows.filter((i) => i % step === 0).map((i) => el("span", {
      text: String(i), style: `top: ${PAD_Y + i * cell}px; height: ${cell}px; line-height: ${cell}px`,
    })));
    this.plotN = n;
    this.drawn = first ? first.stages : null;
    // The new figure holds this frame: no canvas over it, nothing left to hand over.
    clearTimeout(this.syncTimer);
    this.pendingZ = null;
    this.heatBox = null;
    this.fastLayer.hidden = true;
    this.figure.ntmShown = first ? first.z : null;
    if (first && showText) this.writeValues(first.stages);
    const done = this.Plotly.react(this.figure, [heat], layout, {
      displayModeBar: false, responsive: false, scrollZoom: false, doubleClick: false,
      showAxisDragHandles: false,
    });
    this.placeLayers();
    done.then(() => this.placeLayers());
    this.plotted = true;
    this.draw();
    return done;
  }

  /**
   * Static SVG over the figure, drawn once per N and width, never per frame: the page's
   * background over the gaps between the cards (each heatmap column is a brick one pitch wide,
   * centred on its card), grid lines between the rows (white cells stay visible) and a frame
   * round each column. The argmax outline sits just inside the grid lines.
   */
  drawOverlay(geo, n, cell, background) {
    const svg = this.overlay;
    svg.setAttribute("width", geo.width);
    svg.setAttribute("height", this.layout.height);
    const top = PAD_Y;
    const bottom = PAD_Y + n * cell;
    const parts = [];
    geo.cols.forEach(([x0, x1], c) => {
      // (No gap while the cards are not laid out yet, e.g. mounted in a column of no width:
      // the ResizeObserver redraws once they are.)
      const gap = c + 1 < geo.cols.length ? geo.cols[c + 1][0] - x1 : 0;
      if (gap > 0) {
        parts.push(svgEl("rect", {
          x: x1, y: 0, width: gap, height: this.layout.height, fill: background,
        }));
      }
      let d = `M${x0 + 0.5},${top + 0.5}H${x1 - 0.5}V${bottom - 0.5}H${x0 + 0.5}Z`;
      if (n <= 64) {
        for (let i = 1; i < n; i++) d += `M${x0},${top + i * cell + 0.5}H${x1}`;
      }
      parts.push(svgEl("path", {
        d, fill: "none", stroke: this.gridColour, "stroke-width": 1, "shape-rendering": "crispEdges",
      }));
    });
    svg.replaceChildren(...parts);
  }

  /** The values in the cells (two decimals; blank below 0.005 so the focus stands out). */
  writeValues(stages) {
    const { dark } = this.colours;
    let k = 0;
    for (const w of stages) {
      for (const v of w) {
        const span = this.valueSpans[k++];
        if (!span) return;
        const text = v < 0.005 ? "" : v.toFixed(2);
        if (span.textContent !== text) span.textContent = text;
        const light = dark[Math.round(clamp(v, 0, 1) * 255)];
        if (span.classList.contains("light") !== light) span.classList.toggle("light", light);
      }
    }
  }

  /**
   * The outlines, SVG over the plot: one rectangle per stage round its largest weight (just
   * inside the grid lines; moveOutlines places it each frame) and the guesses' dotted
   * rectangles just outside their cells. Built once per figure and whenever the guesses change.
   */
  drawOutlines(geo, best) {
    const { cell } = this.layout;
    const width = cell >= 12 ? 3 : 2;
    const inset = cell >= 12 ? 2 : 1;
    this.outlineRects = geo.cols.map(([x0, x1]) => svgEl("rect", {
      x: x0 + inset, width: Math.max(1, x1 - x0 - 2 * inset), height: Math.max(1, cell - 2 * this.layout.inset),
      fill: "none", stroke: this.argmaxColour, "stroke-width": width, class: "argmax-outline",
    }));
    const guesses = [];
    for (const { stage, row } of this.guesses) {
      const c = this.shown.findIndex((s) => s.id === stage);
      if (c < 0 || !(row >= 0 && row < this.n)) continue;
      const [x0, x1] = geo.cols[c];
      guesses.push(svgEl("rect", {
        x: x0 - 1, y: PAD_Y + row * cell - 1, width: x1 - x0 + 2, height: cell + 2, class: "guess-outline",
        fill: "none", stroke: GUESS_COLOR, "stroke-width": width, "stroke-dasharray": `${width} ${width}`,
      }));
    }
    this.outlineSvg.setAttribute("width", geo.width);
    this.outlineSvg.setAttribute("height", this.layout.height);
    this.outlineSvg.replaceChildren(...this.outlineRects, ...guesses);
    this.moveOutlines(best);
  }

  /** Each stage's outline round row best[c] (none where best[c] is null). */
  moveOutlines(best) {
    const top = PAD_Y + this.layout.inset;
    this.best = best;
    this.outlineRects.forEach((rect, c) => {
      const b = best[c];
      const shown = b !== null && b !== undefined;
      setAttr(rect, "visibility", shown ? "visible" : "hidden");
      if (shown) setAttr(rect, "y", String(top + b * this.layout.cell));
    });
  }

  /** What is drawn over the heatmap -- the canvas of a moving control's frames (showZ), the
   *  outlines, then the grid and the gaps between the cards, then the values in the cells --
   *  goes between Plotly.js's layers: over the plot, under the hover labels, which nothing may
   *  cover. A figure Plotly.js rebuilds loses that place, so each plot puts them back. */
  placeLayers() {
    const container = this.figure.querySelector(".svg-container");
    if (!container) return;
    const above = container.querySelectorAll("svg.main-svg")[1] ?? null;
    const layers = [this.fastLayer, this.outlineSvg, this.overlay, this.cellValues];
    if (layers.some((layer, i) => layer.parentNode !== container
        || layer.nextSibling !== (layers[i + 1] ?? above))) {
      for (const layer of layers) container.insertBefore(layer, above);
    }
  }

  /** Keep each column over its card when the page's width changes (rebuilt, not per frame). */
  queueGeometry() {
    if (this.geometryQueued || !this.plotted) return;
    this.geometryQueued = true;
    requestAnimationFrame(() => {
      this.geometryQueued = false;
      const geo = this.geometry();
      const old = this.geo;
      const moved = !old || old.width !== geo.width || old.cols.length !== geo.cols.length
        || geo.cols.some(([a, b], c) => Math.abs(a - old.cols[c][0]) > 0.5 || Math.abs(b - old.cols[c][1]) > 0.5);
      if (moved) this.plotFigure();
    });
  }

  // ---- events ----------------------------------------------------------------------------

  listen() {
    const root = this.root;
    root.addEventListener("input", (e) => this.onInput(e));
    root.addEventListener("change", (e) => this.onChange(e));
    root.addEventListener("click", (e) => this.onClick(e));
    root.addEventListener("keydown", (e) => {
      if (MOVE_KEYS.has(e.key)) this.keysHeld.add(e.key);
    });
    root.addEventListener("keyup", (e) => {
      if (!this.keysHeld.delete(e.key)) return;
      this.maybeReport();
    });
    root.addEventListener("focusout", () => {
      // A key released outside the panel never reaches it: do not wait for it.
      this.keysHeld.clear();
      this.maybeReport();
    });
    root.addEventListener("pointerdown", (e) => {
      if (e.target instanceof HTMLInputElement && e.target.type === "range") this.pointerHeld = true;
    });
  }

  onInput(e) {
    const name = e.target.dataset.control || "";
    const c = this.controls;
    const v = e.target.value;
    const num = Number(v);
    this.stopReveal(); // the student took over: show what the controls say
    switch (name) {
      case "beta": c.beta = this.scaleOf("beta").toValue(num); break;
      case "gamma": c.gamma = this.scaleOf("gamma").toValue(num); break;
      case "kernel-choice": {
        const choice = this.kernelChoices.find((k) => k.name === v);
        if (!choice) return;
        c.R = choice.R;
        c.kernel = choice.kernel.slice();
        this.buildKernelControls();
        break;
      }
      case "g": c.g = num; break;
      case "prow": c.prow = num; break;
      case "R": c.R = num; this.buildKernelControls(); break;
      case "beta-number": case "g-number": case "gamma-number": {
        // Typing: follow valid numbers live, leave the field alone while the text is partial.
        if (v === "" || !Number.isFinite(num)) return;
        const key = name.replace("-number", "");
        const [lo, hi] = this.bounds(key);
        if (num < lo || num > hi) return;
        c[key] = num;
        this.syncInputs({ except: e.target });
        this.schedule();
        return;
      }
      default:
        if (name.startsWith("kernel")) {
          c.kernel[Number(e.target.dataset.index)] = num;
        } else if (e.target.name === this.id("prev")) {
          c.prev = v;
        } else {
          return;
        }
    }
    this.syncInputs({ except: e.target });
    this.schedule();
  }

  /**
   * Slider position <-> value of β or γ: log-like over the whole range, or, when the host gives
   * a grid of values (a lesson's notches), one position per value.
   */
  scaleOf(name) {
    const grid = this.grids[name];
    if (grid) {
      return {
        toValue: (p) => grid[clamp(Math.round(p), 0, grid.length - 1)],
        toPosition: (v) => grid.reduce((best, g, i) => (Math.abs(g - v) < Math.abs(grid[best] - v) ? i : best), 0),
      };
    }
    const max = name === "beta" ? this.limits.betaMax : this.limits.gammaMax;
    const scale = name === "beta" ? betaScale : gammaScale;
    return { toValue: (p) => scale.toValue(p, max), toPosition: (v) => scale.toPosition(v, max) };
  }

  bounds(key) {
    if (key === "beta") return [0, this.limits.betaMax];
    if (key === "gamma") return [1, this.limits.gammaMax];
    return [0, 1];
  }

  onChange(e) {
    const name = e.target.dataset.control || "";
    if (name.endsWith("-number")) {
      // Enter or leaving the field: clamp what was typed and show it as used.
      const key = name.replace("-number", "");
      const num = Number(e.target.value);
      const [lo, hi] = this.bounds(key);
      if (e.target.value !== "" && Number.isFinite(num)) this.controls[key] = clamp(num, lo, hi);
      this.syncInputs();
      this.schedule();
    }
    this.pending = true;
    this.maybeReport();
  }

  onClick(e) {
    const name = e.target.dataset?.control;
    const c = this.controls;
    if (name === "apply") c.steps = Math.min(c.steps + 1, this.limits.maxSteps);
    else if (name === "restart") c.steps = 0;
    else if (name === "reset") this.controls = this.clampControls(structuredClone(this.defaults));
    else return;
    this.syncInputs();
    this.schedule();
    this.pending = true;
    this.maybeReport();
  }

  /** Report once a gesture is over: nothing while a key or the pointer is held. */
  maybeReport() {
    if (!this.pending || this.pointerHeld || this.keysHeld.size > 0) return;
    this.pending = false;
    const value = structuredClone(this.controls);
    if (sameControls(value, this.lastReported ?? this.lastIncoming)) return;
    this.lastReported = value;
    this.sent.push(value);
    if (this.sent.length > 32) this.sent.shift();
    this.reports = (this.reports || 0) + 1;
    if (this.trigger) this.trigger("release", value);
  }

  // ---- data from the server --------------------------------------------------------------

  clampControls(c) {
    const out = structuredClone(DEFAULTS);
    const num = (v, d) => (Number.isFinite(Number(v)) && v !== null && v !== "" ? Number(v) : d);
    out.prev = c.prev === "uniform" ? "uniform" : "onehot";
    out.prow = Math.round(clamp(num(c.prow, 0), 0, Math.max(this.n, 1) - 1));
    out.steps = Math.round(clamp(num(c.steps, 0), 0, this.limits.maxSteps));
    out.beta = clamp(num(c.beta, DEFAULTS.beta), 0, this.limits.betaMax);
    out.g = clamp(num(c.g, DEFAULTS.g), 0, 1);
    const maxR = Math.max(1, Math.min(MAX_RADIUS, Math.floor((this.n - 1) / 2)));
    out.R = Math.round(clamp(num(c.R, 1), 1, maxR));
    const raw = Array.isArray(c.kernel) ? c.kernel : [];
    out.kernel = DEFAULTS.kernel.map((d, i) => clamp(num(raw[i], d), 0, 1));
    out.gamma = clamp(num(c.gamma, DEFAULTS.gamma), 1, this.limits.gammaMax);
    return out;
  }

  receive(data) {
    data = data || {};
    if (data.limits) Object.assign(this.limits, data.limits);
    if (Array.isArray(data.colorscale)) this.setColorscale(data.colorscale);
    if (typeof data.legend === "string" && this.legendText.textContent !== data.legend) {
      this.legendText.textContent = data.legend;
    }
    if (typeof data.channel === "string") this.channel = data.channel;
    this.root.classList.toggle("classroom", Boolean(data.classroom));
    this.root.classList.toggle("projector", Boolean(data.projector));
    for (const stage of STAGES) {
      const text = (data.texts && data.texts[stage.id]) || stage.text;
      const card = this.cards[stage.id];
      if (card.text !== text) {
        card.text = text;
        card.explain.replaceChildren(...richText(text));
      }
    }
    this.token = typeof data.token === "string" ? data.token : "";
    if (data.argmaxColor) this.argmaxColour = data.argmaxColor;
    if (data.gridColor) this.gridColour = data.gridColor;
    this.memory = Array.isArray(data.memory) && data.memory.length ? data.memory : [[0], [0], [0]];
    this.key = Array.isArray(data.key) ? data.key : this.memory[0].map(() => 0);
    this.rowLabels = Array.isArray(data.rowLabels) ? data.rowLabels : null;
    if (data.defaults) this.defaults = { ...DEFAULTS, ...data.defaults };
    this.receiveOptions(data);
    const n = this.memory.length;
    if (n !== this.n) this.buildColumns(n);
    this.inputs.beta.field.max = this.limits.betaMax;
    this.inputs.gamma.field.max = this.limits.gammaMax;
    this.inputs.prow.range.max = n - 1;
    this.inputs.radius.range.max = Math.max(1, Math.min(MAX_RADIUS, Math.floor((n - 1) / 2)));
    this.legendSwatch.style.background = `linear-gradient(to right, ${this.colours.table[0]}, ${this.colours.table[64]}, ${this.colours.table[128]}, ${this.colours.table[192]}, ${this.colours.table[255]})`;

    const incoming = this.clampControls(data.controls || this.controls);
    const revision = data.revision ?? 0;
    if (revision !== this.revision) {
      // The server set the controls itself (a reset, a scenario, a link): they win, even when
      // they equal what it sent before (the run a release causes still carries the old ones).
      this.revision = revision;
      this.controls = incoming;
      this.sent = [];
      this.lastReported = null;
      this.lastIncoming = incoming;
    } else if (!sameControls(incoming, this.lastIncoming)) {
      const echo = this.sent.findIndex((s) => sameControls(s, incoming));
      if (echo >= 0) {
        // The server caught up with something we reported; we are at least as new.
        this.sent.splice(0, echo + 1);
      } else {
        // Changed on the server (a reset, a scenario, a link): take it.
        this.controls = incoming;
        this.sent = [];
        this.lastReported = null;
      }
      this.lastIncoming = incoming;
    }
    this.controls = this.clampControls(this.controls); // N may have shrunk
    this.buildKernelControls();
    this.syncInputs();
    const reveal = data.reveal;
    if (reveal && typeof reveal.id === "string" && reveal.id !== this.revealId) {
      this.revealId = reveal.id;
      this.revealQueued = Array.isArray(reveal.stages) ? reveal.stages : [];
    }
    this.draw();
  }

  /**
   * A host's choices beyond the playground's: which stages and controls to show, locked
   * controls, grids of values for β and γ, named kernels, the student's guesses, reduced motion.
   * Each rebuilds only what it changes (rebuilding a focused control would lose the focus).
   */
  receiveOptions(data) {
    const show = data.show || {};
    const stages = Array.isArray(show.stages) ? STAGES.filter((s) => show.stages.includes(s.id)) : STAGES;
    const shown = stages.length ? stages : STAGES;
    const controls = new Set(Array.isArray(show.controls) ? show.controls : CONTROL_NAMES);
    const kernels = Array.isArray(data.kernels) && data.kernels.length ? data.kernels : null;
    const layout = JSON.stringify([shown.map((s) => s.id), [...controls], kernels]);
    if (layout !== this.layoutKey) {
      this.layoutKey = layout;
      this.shown = shown;
      this.showControls = controls;
      this.kernelChoices = kernels;
      this.buildKernelChoice();
      this.arrangeStages();
      this.arrangeControls();
    }
    const grids = data.grids || {};
    for (const name of ["beta", "gamma"]) {
      const grid = Array.isArray(grids[name]) && grids[name].length ? grids[name] : null;
      if (JSON.stringify(grid) === JSON.stringify(this.grids[name])) continue;
      this.grids[name] = grid;
      const input = this.inputs[name];
      input.range.max = grid ? grid.length - 1 : STEPS;
      input.field.hidden = Boolean(grid); // a grid's values only: no free typing
    }
    this.locked = new Set(Array.isArray(data.locked) ? data.locked : []);
    for (const [name, label] of Object.entries(this.labels)) {
      const text = label.dataset.text + (this.locked.has(name) ? " (locked)" : "");
      if (label.textContent !== text) label.textContent = text;
    }
    this.reduceMotion = Boolean(data.reduceMotion);
    const guesses = Array.isArray(data.guesses) ? data.guesses : [];
    if (JSON.stringify(guesses) !== JSON.stringify(this.guesses)) {
      this.guesses = guesses;
      for (const stage of STAGES) {
        const mine = guesses.filter((g) => g.stage === stage.id).map((g) => g.text);
        this.cards[stage.id].guess.textContent = mine.join("; ");
      }
      if (this.plotted && this.geo) this.drawOutlines(this.geo, this.best ?? this.shown.map(() => null));
    }
  }

  /** Show only the chosen stages' cards, side by side; the figure is rebuilt for them. */
  arrangeStages() {
    const shown = new Set(this.shown.map((s) => s.id));
    for (const stage of STAGES) {
      const card = this.cards[stage.id].card;
      card.hidden = !shown.has(stage.id);
      card.style.gridColumn = String(this.shown.indexOf(stage) + 1 || 1);
    }
    this.grid.style.gridTemplateColumns = this.shown.length === STAGES.length
      ? "" : `repeat(${this.shown.length}, minmax(132px, 1fr))`;
    this.plotted = false;
    this.drawn = null;
    if (this.Plotly && this.n) this.plotFigure();
  }

  /** Put each shown control in its stage's card (or the first card shown); the others leave. */
  arrangeControls() {
    const shown = new Set(this.shown.map((s) => s.id));
    const byCard = Object.fromEntries(STAGES.map((s) => [s.id, []]));
    for (const name of CONTROL_NAMES) {
      if (!this.showControls.has(name)) continue;
      const home = shown.has(CONTROL_HOME[name]) ? CONTROL_HOME[name] : this.shown[0].id;
      const parts = name === "kernel" && this.kernelChoices ? [this.inputs.kernelChoice] : this.boxes[name];
      byCard[home].push(...parts);
    }
    for (const stage of STAGES) this.cards[stage.id].controls.replaceChildren(...byCard[stage.id]);
  }

  /** The named kernels as radio buttons (a lesson's choices). */
  buildKernelChoice() {
    const box = this.inputs.kernelChoice;
    box.replaceChildren(box.firstChild);
    this.inputs.kernelRadios = (this.kernelChoices || []).map((k, i) => {
      const input = el("input", {
        type: "radio", name: this.id("kernel-choice"), id: this.id(`kernel-choice-${i}`),
        value: k.name, "data-control": "kernel-choice",
      });
      box.append(el("span", { class: "radio" }, [
        input, el("label", { for: input.id, text: String(k.label) }),
      ]));
      return { input, choice: k };
    });
    this.labels.kernel = this.kernelChoices ? box.firstChild : this.inputs.radius.label;
    this.labels.kernel.dataset.text = this.labels.kernel.dataset.text || this.labels.kernel.textContent;
  }

  /** A new weighting colour scale (the app's colour choice changed): recolour what is drawn. */
  setColorscale(scale) {
    if (JSON.stringify(scale) === JSON.stringify(this.colorscale)) return;
    this.colorscale = scale;
    // A scale whose colours pixelScale cannot read keeps the legend's colours and leaves every
    // frame to Plotly.restyle.
    this.pixels = pixelScale(scale);
    if (this.pixels) this.colours = colourTable(this.pixels);
    this.root.dataset.colorscale = JSON.stringify(scale);
    if (!this.plotted) return;
    // The canvas (if shown) recolours with the figure, which takes its z in the same restyle.
    if (!this.fastLayer.hidden && !this.paintCanvas(this.figure.ntmShown)) this.fastLayer.hidden = true;
    this.syncFigure({ colorscale: [scale] });
    if (this.layout.showText && this.drawn) this.writeValues(this.drawn);
  }

  buildKernelControls() {
    const r = this.controls.R;
    if (this.kernelRadius === r) return;
    this.kernelRadius = r;
    const box = this.inputs.kernelBox;
    box.replaceChildren();
    this.inputs.kernel = [];
    for (let d = -r; d <= r; d++) {
      const index = d + MAX_RADIUS;
      const s = this.slider(`kernel${index}`, `s(${offsetLabel(d)})`, { min: 0, max: 1, step: 0.01 });
      s.range.dataset.index = index;
      s.box.classList.add("offset");
      box.append(s.box);
      this.inputs.kernel.push({ d, index, ...s });
    }
  }

  /** Put every input, readout and field in line with this.controls. */
  syncInputs({ except = null } = {}) {
    const c = this.controls;
    const i = this.inputs;
    const set = (input, value) => {
      if (input && input !== except && String(input.value) !== String(value)) input.value = value;
    };
    i.onehot.checked = c.prev === "onehot";
    i.uniform.checked = c.prev === "uniform";
    i.prow.range.disabled = c.prev !== "onehot";
    set(i.prow.range, c.prow);
    setText(i.prow.out, c.prev === "onehot" ? `row ${c.prow}${this.label(c.prow, " ")}` : "—");
    setAttr(i.prow.range, "aria-valuetext", `row ${c.prow}${this.label(c.prow, " ")}`);
    setText(i.stepsText, c.steps === 0
      ? "t = 0: no steps applied yet"
      : `t = ${c.steps}: w(t−1) is w after ${c.steps} step${c.steps > 1 ? "s" : ""}`);
    i.apply.disabled = c.steps >= this.limits.maxSteps;
    i.restart.disabled = c.steps === 0;

    set(i.beta.range, this.scaleOf("beta").toPosition(c.beta));
    set(i.beta.field, fmt(c.beta, 6));
    setText(i.beta.out, `β = ${fmt(c.beta)}`);
    setAttr(i.beta.range, "aria-valuetext", `β = ${fmt(c.beta)}`);
    set(i.gate.range, c.g);
    set(i.gate.field, fmt(c.g, 6));
    setText(i.gate.out, `g = ${c.g.toFixed(2)}`);
    setAttr(i.gate.range, "aria-valuetext", `g = ${c.g.toFixed(2)}`);
    set(i.gamma.range, this.scaleOf("gamma").toPosition(c.gamma));
    set(i.gamma.field, fmt(c.gamma, 6));
    setText(i.gamma.out, `γ = ${fmt(c.gamma)}`);
    setAttr(i.gamma.range, "aria-valuetext", `γ = ${fmt(c.gamma)}`);
    set(i.radius.range, c.R);
    setText(i.radius.out, `R = ${c.R}: offsets ${offsetLabel(-c.R)} … ${offsetLabel(c.R)}`);
    setAttr(i.radius.range, "aria-valuetext", `R = ${c.R}`);
    const kernel = normaliseKernel(usedKernel(c));
    const zero = usedKernel(c).every((v) => v <= 0);
    for (const [k, s] of (i.kernel || []).entries()) {
      set(s.range, c.kernel[s.index]);
      const raw = c.kernel[s.index].toFixed(2);
      setText(s.out, `${raw} → ${kernel[k].toFixed(2)}`);
      setAttr(s.range, "aria-valuetext", `weight ${raw}, normalised ${kernel[k].toFixed(2)}`);
    }
    setText(i.kernelNote, zero
      ? "All weights are 0: using the identity kernel s(0) = 1."
      : "Each slider is a raw weight; → shows s, the weights divided by their sum (a softmax in the model).");
    for (const { input, choice } of i.kernelRadios || []) {
      input.checked = choice.R === c.R
        && choice.kernel.every((v, j) => Math.abs(v - c.kernel[j]) < 1e-12);
    }
    this.applyLocks();
  }

  /** A locked control (a teacher's link) is shown disabled: its value is the link's. */
  applyLocks() {
    const i = this.inputs;
    // `own`: the inputs whose disabled state nothing else sets (unlocked, they are enabled).
    const lock = (name, inputs, own = true) => {
      const locked = this.locked.has(name);
      for (const input of inputs) if (input && (locked || own)) input.disabled = locked;
    };
    lock("prev", [i.onehot, i.uniform]);
    lock("prow", [i.prow.range], false);
    lock("steps", [i.apply, i.restart], false);
    lock("reset", [i.reset]);
    lock("beta", [i.beta.range, i.beta.field]);
    lock("g", [i.gate.range, i.gate.field]);
    lock("gamma", [i.gamma.range, i.gamma.field]);
    lock("kernel", [i.radius.range, ...(i.kernel || []).map((s) => s.range),
      ...(i.kernelRadios || []).map((r) => r.input)]);
  }

  label(row, sep) {
    const name = this.rowLabels && this.rowLabels[row];
    return name ? `${sep}(${name})` : "";
  }

  // ---- drawing ---------------------------------------------------------------------------

  /**
   * Redraw at most once per animation frame: at once when this frame has not drawn yet (the
   * input's own event draws it, rather than waiting up to a frame for requestAnimationFrame),
   * otherwise once more at the next frame, with the latest controls.
   */
  schedule() {
    if (this.frameBusy) {
      this.drawQueued = true;
      return;
    }
    this.frameBusy = true;
    this.draw();
    requestAnimationFrame(() => {
      this.frameBusy = false;
      if (this.drawQueued) {
        this.drawQueued = false;
        this.schedule();
      }
    });
  }

  /** The five weightings for the current controls, their argmax rows and the z of the
   * figure's heatmap (row i: the five stages); null if they cannot be computed. */
  frameData() {
    let result;
    try {
      result = run(this.memory, this.key, this.controls);
    } catch (err) {
      this.root.dataset.error = String(err);
      return null;
    }
    const stages = this.shown.map((stage) => result[stage.id]);
    const best = stages.map((w) => {
      let b = 0;
      for (let i = 1; i < w.length; i++) if (w[i] > w[b]) b = i;
      return b;
    });
    const z = heatmapZ(stages, this.n);
    return { result, stages, best, z };
  }

  draw() {
    const c = this.controls;
    const data = this.frameData();
    if (!data) return;
    const { result, stages, best, z } = data;
    this.result = result;
    this.frame++;
    // When a stage changed: z of the one heatmap (the five stages are its columns; showZ), the
    // outlines' y and the values written in the cells. Nothing else is redrawn.
    const plotted = this.plotted && this.plotN === this.n;
    if (plotted && this.revealQueued) this.startReveal(data);
    // While the reveal runs, it alone draws the figure (its last frame is this one).
    if (plotted && !this.anim && !(this.drawn && stages.every((w, k) => sameArray(w, this.drawn[k])))) {
      this.showZ(z);
      this.moveOutlines(best);
      if (this.layout.showText) this.writeValues(stages);
      this.drawn = stages;
    }
    this.shown.forEach((stage, s) => {
      const w = stages[s];
      const card = this.cards[stage.id];
      const top = `max row ${best[s]}, ${w[best[s]].toFixed(2)}`;
      const guess = card.guess.textContent ? `; ${card.guess.textContent}` : "";
      setAttr(card.alt, "aria-label", `${stage.symbol}: ${top}${this.label(best[s], " ")}${guess}`);
      card.alt.ntmWeights = w;
      card.alt.dataset.frame = String(this.frame);
      setText(card.live, this.liveText(stage.id, best[s], w[best[s]], result));
    });
    this.root.dataset.frame = String(this.frame);
    if (plotted) this.root.dataset.plotted = String(this.frame);
    const prevEq = c.steps > 0
      ? `w<sub>t−1</sub> = w after t = ${c.steps} step${c.steps > 1 ? "s" : ""}`
      : c.prev === "uniform"
        ? "w<sub>t−1</sub>(i) = 1 / N"
        : `w<sub>t−1</sub>(i) = [ i = ${c.prow} ]`;
    if (this.cards.previous.eq.innerHTML !== prevEq) this.cards.previous.eq.innerHTML = prevEq;
    if (this.details.open) this.fillTable(result);
    publishWeighting(this.channel, {
      token: this.token, weighting: result.sharpened, controls: structuredClone(c),
    });
  }

  // ---- putting z on screen ---------------------------------------------------------------

  /**
   * Show z (N × 5) in the stage figure. Plotly.restyle of z is about 9 ms of a ~20 ms frame
   * on the 2-core machine (README), which held a drag to about 30 frames/s. So each frame the
   * panel paints the heatmap's cells itself, on a canvas lying exactly over Plotly.js's image,
   * in the colours Plotly.js paints for these values (pixelScale: the same bytes); once the
   * controls rest for SYNC_MS, one Plotly.restyle hands z to the figure (its hover labels and
   * data then hold it) and the canvas goes. The figure's element keeps the z on screen
   * (ntmShown) and fires "ntm-frame" per frame.
   */
  showZ(z) {
    this.figure.ntmShown = z;
    this.pendingZ = z;
    clearTimeout(this.syncTimer);
    if (!this.paintCanvas(z)) this.syncFigure();
    else this.syncTimer = setTimeout(() => this.syncFigure(), SYNC_MS);
    this.figure.dispatchEvent(new CustomEvent("ntm-frame"));
  }

  /** Paint z on the canvas over Plotly.js's heatmap image (one pixel per cell, scaled up
   *  without smoothing, as Plotly.js draws it); false if there is no image to cover or no
   *  colours to paint it in. */
  paintCanvas(z) {
    const box = this.heatBox ?? (this.heatBox = this.findHeatBox());
    if (!this.pixels || !box || !z || z.length !== box.rows || z[0].length !== box.cols) return false;
    const canvas = this.fastCanvas;
    if (canvas.width !== box.cols || canvas.height !== box.rows) {
      canvas.width = box.cols;
      canvas.height = box.rows;
      this.fastImage = null;
    }
    const ctx = canvas.getContext("2d");
    this.fastImage ??= ctx.createImageData(box.cols, box.rows);
    const data = this.fastImage.data;
    let p = 0;
    for (const row of z) {
      for (const v of row) {
        const c = this.pixels(v);
        data[p] = c[0];
        data[p + 1] = c[1];
        data[p + 2] = c[2];
        data[p + 3] = 255;
        p += 4;
      }
    }
    ctx.putImageData(this.fastImage, 0, 0);
    this.fastLayer.hidden = false;
    canvas.dataset.frame = String(++this.painted);
    return true;
  }

  /** Where Plotly.js put its heatmap image, in the plot area (read once per figure). */
  findHeatBox() {
    const image = this.figure.querySelector("g.hm image");
    if (!image) return null;
    const num = (name) => Number(image.getAttribute(name));
    const box = {
      x: num("x"), y: num("y"), width: num("width"), height: num("height"),
      rows: this.n, cols: this.shown.length,
    };
    if (![box.x, box.y, box.width, box.height].every(Number.isFinite)) return null;
    // The plot area (margins l = r = 0, t = b = PAD_Y) clips the image, as Plotly.js's does.
    Object.assign(this.fastLayer.style, {
      top: `${PAD_Y}px`, width: `${this.geo.width}px`, height: `${this.layout.height - 2 * PAD_Y}px`,
    });
    Object.assign(this.fastCanvas.style, {
      left: `${box.x}px`, top: `${box.y}px`, width: `${box.width}px`, height: `${box.height}px`,
    });
    return box;
  }

  /** Hand the canvas's z to the figure (and any other restyle with it); the canvas goes once
   *  the figure's new image is decoded, unless another frame was painted meanwhile. */
  syncFigure(update = {}) {
    clearTimeout(this.syncTimer);
    if (this.pendingZ && !update.z) update.z = [this.pendingZ];
    this.pendingZ = null;
    if (!Object.keys(update).length) return;
    this.Plotly.restyle(this.figure, update, [0]);
    if (this.fastLayer.hidden) return;
    const painted = this.painted;
    const image = this.figure.querySelector("g.hm image");
    const probe = new Image();
    probe.src = image?.href?.baseVal ?? "";
    probe.decode().catch(() => {}).then(() => requestAnimationFrame(() => {
      if (this.painted === painted && !this.pendingZ) this.fastLayer.hidden = true;
    }));
  }

  // ---- the reveal -------------------------------------------------------------------------

  /**
   * Animate the stages just revealed, in the pipeline's order: each grows out of the stage
   * before it (GROWS_FROM) over REVEAL_MS, the later ones blank until their turn; then the
   * figure holds exactly this frame's values. Only the heatmap's z, the outlines and the cell
   * values are restyled per animation frame. With reduced motion (the browser's setting or the
   * lesson's `motion=reduce`) nothing moves: the final state at once.
   */
  startReveal(final) {
    const order = this.shown.filter((s) => this.revealQueued.includes(s.id)).map((s) => s.id);
    this.revealQueued = null;
    const reduced = this.reduceMotion
      || window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
    if (!order.length || reduced) {
      this.root.dataset.reveal = "done";
      return;
    }
    const n = this.n;
    const uniform = new Float64Array(n).fill(1 / n);
    const from = (id) => {
      const source = GROWS_FROM[id];
      return source === "uniform" ? uniform : source ? final.result[source] : new Float64Array(n);
    };
    this.anim = {
      order, final, from: Object.fromEntries(order.map((id) => [id, from(id)])),
      turn: 0, start: null, frames: 0, pauseUntil: 0,
    };
    this.root.dataset.reveal = "running";
    this.root.dataset.revealFrames = "0";
    this.drawRevealFrame(0, 0); // at once: the final state is never painted first
    const tick = (now) => {
      const anim = this.anim;
      if (!anim) return;
      if (now >= anim.pauseUntil) {
        anim.start ??= now;
        anim.frames++;
        // Time decides, unless frames were dropped: never more than 1/MIN_FRAMES per frame.
        const f = Math.min(1, (now - anim.start) / REVEAL_MS, anim.frames / REVEAL_MIN_FRAMES);
        this.drawRevealFrame(anim.turn, f * f * (3 - 2 * f)); // smoothstep: eases in and out
        if (f >= 1) {
          Object.assign(anim, { turn: anim.turn + 1, start: null, frames: 0, pauseUntil: now + REVEAL_PAUSE_MS });
          if (anim.turn >= order.length) {
            this.stopReveal();
            this.draw(); // the true values, exactly
            return;
          }
        }
      }
      anim.raf = requestAnimationFrame(tick);
    };
    this.anim.raf = requestAnimationFrame(tick);
  }

  /** One frame of the reveal: stage order[turn] a fraction `f` of the way from its source. */
  drawRevealFrame(turn, f) {
    const { order, final, from } = this.anim;
    const stages = this.shown.map((stage, s) => {
      const k = order.indexOf(stage.id);
      if (k < 0 || k < turn) return final.stages[s];
      if (k > turn) return new Float64Array(this.n); // not yet: blank
      const a = from[stage.id];
      const b = final.stages[s];
      return b.map((v, i) => a[i] + f * (v - a[i]));
    });
    const best = this.shown.map((stage, s) => {
      const k = order.indexOf(stage.id);
      return k < 0 || k < turn || (k === turn && f >= 1) ? final.best[s] : null;
    });
    const z = heatmapZ(stages, this.n);
    this.showZ(z);
    this.moveOutlines(best);
    if (this.layout.showText) this.writeValues(stages);
    this.drawn = null; // the last frame must redraw the true values
    this.root.dataset.revealStage = order[turn];
    this.root.dataset.revealFrames = String(Number(this.root.dataset.revealFrames) + 1);
  }

  stopReveal() {
    if (!this.anim) return;
    cancelAnimationFrame(this.anim.raf);
    this.anim = null;
    this.drawn = null;
    this.root.dataset.reveal = "done";
  }

  liveText(stage, best, value, result) {
    const c = this.controls;
    const head = `max row ${best}${this.label(best, " ")} · ${value.toFixed(2)}`;
    if (stage === "previous") return `${head} · t = ${c.steps}`;
    if (stage === "content") {
      let top = 0;
      for (let i = 1; i < result.similarity.length; i++) {
        if (result.similarity[i] > result.similarity[top]) top = i;
      }
      return `${head} · β = ${fmt(c.beta)}, best cos ${signed(result.similarity[top])}`;
    }
    if (stage === "gated") return `${head} · g = ${c.g.toFixed(2)}`;
    if (stage === "shifted") {
      const used = [];
      for (let d = -c.R; d <= c.R; d++) {
        const s = result.kernel[d + c.R];
        if (s > 0.005) used.push(`${offsetLabel(d)}: ${s.toFixed(2)}`);
      }
      return `${head} · s ${used.join(", ")}`;
    }
    let shiftedMax = 0;
    for (const v of result.shifted) shiftedMax = Math.max(shiftedMax, v);
    return `${head} · γ = ${fmt(c.gamma)} (max ${shiftedMax.toFixed(2)} → ${value.toFixed(2)})`;
  }

  fillTable(result) {
    const head = el("tr", {}, [
      el("th", { scope: "col", text: "row" }),
      ...this.shown.map((s) => el("th", { scope: "col", text: s.symbol })),
    ]);
    const rows = [head];
    for (let i = 0; i < this.n; i++) {
      rows.push(el("tr", {}, [
        el("th", { scope: "row", text: `${i}${this.label(i, " ")}` }),
        ...this.shown.map((s) => el("td", { text: result[s.id][i].toFixed(4) })),
      ]));
    }
    this.table.replaceChildren(...rows);
  }
}

const PANELS = new WeakMap();

/** Streamlit components v2 entry point: called on mount and again whenever `data` changes. */
export default function mountAddressingPanel(component) {
  const { data, parentElement, setTriggerValue } = component;
  let host = parentElement.querySelector(".ntm-addressing-panel");
  if (!host) {
    host = document.createElement("div");
    host.className = "ntm-addressing-panel";
    parentElement.append(host);
  }
  let panel = PANELS.get(parentElement);
  if (!panel || panel.host !== host) {
    panel?.destroy();
    panel = new Panel(host);
    PANELS.set(parentElement, panel);
  }
  panel.trigger = setTriggerValue;
  panel.receive(data);
  return () => {
    panel.destroy();
    PANELS.delete(parentElement);
  };
}
