// NTM Explorer: the playground's read (eq. 2) and write (eqs. 3-4) figures, following the live
// weighting w of the addressing panel while a stage control is dragged.
//
// The server draws each figure with its Python builder (ntm/figures/addressing.py: read_figure,
// write_figure) and sends it here with the memory, the erase and add vectors and the w it was
// drawn for. The addressing panel (addressing.js) publishes every frame's w on window.ntmLive;
// this component recomputes the read vector r = sum_i w(i) M(i) and the written memory
// M'(i) = M(i) (1 - w(i) e) + w(i) a in float64, exactly as the builders lay them out, and updates
// only that data (one Plotly.update per frame, never a new figure). A figure that is scrolled out
// of view waits, and catches up when it comes back. A "static" figure (the playground's memory)
// is drawn the same way and follows nothing: one Plotly.js on the page, the package's.
//
// Part 1 (window.ntmLiveFigures) is the arithmetic and the builders' data in JavaScript, proven
// against the Python builders by tests/browser/test_browser_live_figures.py.

// ------------------------------------------------------------------------------------------
// Part 1: the numbers and the figures' data
// ------------------------------------------------------------------------------------------

/** Eq. 2: r(j) = sum_i w(i) M(i, j). */
function readVector(memory, w) {
  const m = memory[0].length;
  const r = new Float64Array(m);
  for (let i = 0; i < memory.length; i++) {
    const row = memory[i];
    for (let j = 0; j < m; j++) r[j] += w[i] * row[j];
  }
  return r;
}

/** Eqs. 3-4: M'(i, j) = M(i, j) (1 - w(i) e(j)) + w(i) a(j). */
function written(memory, w, erase, add) {
  return memory.map((row, i) => row.map((v, j) => v * (1 - w[i] * erase[j]) + w[i] * add[j]));
}

/** numpy's rint: round half to even. */
function rint(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r;
}

/**
 * Python's f"{x:.{d}f}": the exact value rounded, ties (only exactly representable halves) to
 * even, where JavaScript's toFixed rounds them up.
 */
function pyFixed(x, d) {
  const scale = 10 ** d;
  const scaled = x * scale;
  if (Math.abs(scaled % 1) === 0.5 && scaled / scale === x) {
    const even = rint(scaled);
    const s = (Math.abs(even) / scale).toFixed(d);
    return x < 0 || Object.is(x, -0) ? `-${s}` : s;
  }
  const s = x.toFixed(d);
  return Object.is(x, -0) && !s.startsWith("-") ? `-${s}` : s;
}

/** f"{x:+.2f}". */
function signed2(x) {
  const s = pyFixed(x, 2);
  return s.startsWith("-") ? s : `+${s}`;
}

/** ntm.figures.style.cell_text: "%.2f" of np.round(z, 2) + 0.0; blank below `blankBelow`. */
function cellText(v, blankBelow = null) {
  if (blankBelow !== null && Math.abs(v) < blankBelow) return "";
  return (rint(v * 100) / 100 + 0).toFixed(2);
}

/** max(floor, max |x|) over arrays of numbers or of rows (ntm.figures.style.abs_max). */
function absMax(arrays, floor = 1.0) {
  let m = floor;
  const visit = (a) => {
    for (const v of a) {
      if (typeof v === "number") m = Math.max(m, Math.abs(v));
      else visit(v);
    }
  };
  for (const a of arrays) visit(a);
  return m;
}

/** numpy.interp for one x over increasing stops. */
function interp(x, xp, fp) {
  if (x <= xp[0]) return fp[0];
  const last = xp.length - 1;
  if (x >= xp[last]) return fp[last];
  let j = 0;
  while (j < last - 1 && x >= xp[j + 1]) j++;
  const slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  return slope * (x - xp[j]) + fp[j];
}

/** ntm.figures.style.scale_colors: the CSS colour a scale gives each value over lo .. hi. */
function scaleColors(values, scale, lo, hi) {
  const stops = scale.map(([t]) => t);
  const rgb = [1, 3, 5].map((k) => scale.map(([, c]) => parseInt(c.slice(k, k + 2), 16)));
  return Array.from(values, (v) => {
    const t = Math.min(Math.max((v - lo) / Math.max(hi - lo, 1e-12), 0), 1);
    const [r, g, b] = rgb.map((channel) => pyFixed(interp(t, stops, channel), 0));
    return `rgb(${r}, ${g}, ${b})`;
  });
}

/** Indices of w sorted by weight, largest first, ties in row order (argsort(-w, stable)). */
function byWeight(w) {
  return Array.from(w, (_, i) => i).sort((a, b) => w[b] - w[a] || a - b);
}

/**
 * The data of read_figure(memory, w, r, top, min_weight, row_labels, ...) for a new w: the rows
 * mixed (heatmap 0: z, y, text), the read vector (bars 1: y, text, colours), the bars' range and
 * the caption. Returns [dataUpdate, layoutUpdate, traces] for Plotly.update.
 */
function readUpdate(spec, w) {
  const { memory, rowLabels, top, minWeight, memoryColorscale } = spec;
  const n = memory.length;
  let order = byWeight(w).slice(0, Math.min(top, n));
  order = order.filter((i, k) => w[i] >= minWeight || k === 0);
  const r = readVector(memory, w);
  const zmax = absMax([memory, r]);
  const z = order.map((i) => memory[i].slice());
  const labels = order.map((i) => {
    const name = rowLabels ? ` ${rowLabels[i]}` : "";
    return `row ${i}${name} · w=${pyFixed(w[i], 2)}`;
  });
  let kept = 0;
  for (const i of order) kept += w[i];
  const rest = 1.0 - kept;
  const mixed = rest > 0.005 ? `other rows together: w=${pyFixed(rest, 2)}` : "these rows hold all the weight";
  const rmax = absMax([r]) * 1.3;
  const data = {
    z: [z, undefined],
    y: [labels, Array.from(r)],
    text: [z.map((row) => row.map((v) => cellText(v))), Array.from(r, signed2)],
    zmin: [-zmax, undefined],
    zmax: [zmax, undefined],
    "marker.color": [undefined, scaleColors(r, memoryColorscale, -zmax, zmax)],
  };
  const layout = { "yaxis2.range": [-rmax, rmax], "annotations[0].text": `rows mixed (${mixed})` };
  return [data, layout, [0, 1]];
}

/**
 * The data of write_figure(memory, written, w, ...) for a new w: traces w | before | after |
 * change; before and after share one colour range, the change has its own. Returns
 * [dataUpdate, layoutUpdate, traces].
 */
function writeUpdate(spec, w) {
  const { memory, erase, add, values } = spec;
  const after = written(memory, w, erase, add);
  const delta = after.map((row, i) => row.map((v, j) => v - memory[i][j]));
  const zmax = absMax([memory, after]);
  const dmax = absMax([delta], 1e-6);
  const wz = Array.from(w, (v) => [v]);
  const data = {
    z: [wz, undefined, after, delta],
    zmin: [undefined, -zmax, -zmax, -dmax],
    zmax: [undefined, zmax, zmax, dmax],
  };
  if (values) {
    data.text = [
      wz.map(([v]) => [cellText(v, 0.005)]),
      undefined,
      after.map((row) => row.map((v) => cellText(v))),
      delta.map((row) => row.map((v) => cellText(v, 0.005))),
    ];
  }
  return [data, {}, [0, 1, 2, 3]];
}

const UPDATES = { read: readUpdate, write: writeUpdate };

globalThis.ntmLiveFigures = {
  readVector, written, pyFixed, cellText, scaleColors, readUpdate, writeUpdate,
};

// ------------------------------------------------------------------------------------------
// Part 2: the component
// ------------------------------------------------------------------------------------------



function maxDiff(a, b) {
  if (!a || !b || a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Weightings closer than this are the same figure (float32 on the server, float64 here). */
const SAME = 1e-6;

class LiveFigure {
  constructor(parent) {
    this.host = parent.querySelector(".ntm-live-figure") || parent.appendChild(document.createElement("div"));
    this.host.className = "ntm-live-figure";
    this.plot = document.createElement("div");
    this.plot.className = "plotly-figure";
    this.host.replaceChildren(this.plot);
    this.spec = null;
    this.channel = null;
    this.shown = null; // the w the figure shows now
    this.wanted = null; // the latest live w for this memory
    this.frame = 0;
    this.visible = true;
    this.queued = false;
    this.onWeighting = (e) => this.follow(e.detail);
    this.visibility = new IntersectionObserver((entries) => {
      this.visible = entries.some((e) => e.isIntersecting);
      if (this.visible) this.schedule();
    });
    this.visibility.observe(this.host);
    this.resizer = new ResizeObserver(() => {
      const width = Math.round(this.host.clientWidth);
      if (this.Plotly && this.plotted && width > 0 && width !== this.width) {
        this.width = width;
        this.Plotly.relayout(this.plot, { width });
      }
    });
    this.resizer.observe(this.host);
    loadPlotly().then(
      (Plotly) => {
        this.Plotly = Plotly;
        adoptPlotlyStyles(this.host);
        this.render();
      },
      (err) => {
        this.host.dataset.error = String(err);
      },
    );
  }

  destroy() {
    this.visibility.disconnect();
    this.resizer.disconnect();
    if (this.channel) liveBus().events.removeEventListener(this.channel, this.onWeighting);
    if (this.Plotly) this.Plotly.purge(this.plot);
  }

  receive(data) {
    this.spec = data || {};
    this.host.dataset.kind = this.spec.kind || "";
    const channel = this.spec.channel || "addressing";
    if (channel !== this.channel && UPDATES[this.spec.kind]) {
      const bus = liveBus();
      if (this.channel) bus.events.removeEventListener(this.channel, this.onWeighting);
      bus.events.addEventListener(channel, this.onWeighting);
      this.channel = channel;
    }
    this.fresh = true;
    this.render();
  }

  /** A new figure from the server (a rerun): draw it, then catch up with the live w if newer. */
  render() {
    if (!this.Plotly || !this.spec || !this.fresh || !this.spec.figure) return;
    this.fresh = false;
    const { figure } = this.spec;
    this.width = Math.round(this.host.clientWidth) || 600;
    const layout = { ...figure.layout, width: this.width, autosize: false };
    this.Plotly.react(this.plot, figure.data, layout, {
      displayModeBar: false, responsive: false, scrollZoom: false, doubleClick: false,
    });
    this.plotted = true;
    this.shown = this.spec.weighting;
    this.host.ntmWeighting = this.shown;
    this.host.dataset.frame = String(++this.frame);
    const latest = liveBus().latest.get(this.channel);
    if (latest) this.follow(latest);
  }

  follow(value) {
    if (!this.spec || !UPDATES[this.spec.kind]) return; // a figure that does not follow w
    if (value.token !== this.spec.token) return; // another memory's w
    if (value.weighting.length !== this.spec.memory.length) return;
    this.wanted = value.weighting;
    this.schedule();
  }

  /** At most one update per animation frame, and none while scrolled out of view. */
  schedule() {
    if (this.queued || !this.visible || !this.wanted) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.update();
    });
  }

  update() {
    // The server's figure was computed in float32 from the same state: within SAME of the
    // panel's float64 w it is the same figure, and is not drawn twice.
    if (!this.plotted || !this.wanted || maxDiff(this.wanted, this.shown) < SAME) return;
    const w = this.wanted;
    const [data, layout, traces] = UPDATES[this.spec.kind](this.spec, w);
    this.Plotly.update(this.plot, data, layout, traces);
    this.shown = w;
    this.host.ntmWeighting = w;
    this.host.dataset.frame = String(++this.frame);
  }
}

const VIEWS = new WeakMap();

/** Streamlit components v2 entry point: called on mount and whenever `data` changes. */
export default function mountLiveFigure(component) {
  const { data, parentElement } = component;
  let view = VIEWS.get(parentElement);
  if (!view) {
    view = new LiveFigure(parentElement);
    VIEWS.set(parentElement, view);
  }
  view.receive(data);
  return () => {
    view.destroy();
    VIEWS.delete(parentElement);
  };
}
