// NTM Explorer: small bar charts (a head's key, shift kernel, erase and add vectors, a read
// vector) drawn as plain SVG from the Plotly figure JSON that ntm.figures builds.
//
// Why not Plotly.js: a Plotly restyle redraws the whole figure, axes and all, ~10-15 ms per
// figure on a 2-core laptop, and the trace player shows up to eight such bar charts at once; at
// 8 steps a second that alone fills the frame budget. Here a step only moves the bars (one
// setAttribute per bar and label), well under a millisecond.
//
// The look follows the Plotly figure it is given: its title, height and margins, the trace's
// colours (one colour, or one per bar), the category labels, the y-range and its tick values,
// outside value labels (`text`), a zero line and light grid lines. Hovering a bar shows its
// exact value in a Plotly-like label. A camera button saves the figure as a PNG, like Plotly's.
//
// For tests, the <svg> carries data-range="lo,hi" and every bar data-value (its exact value)
// and its fill; the labels are the <text class="label"> elements.

const SVG_NS = "http://www.w3.org/2000/svg";
const BAR_GAP = 0.2; // Plotly's default bargap: bars fill 80 % of their category

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

/** Tick values for [lo, hi]: the figure's own, else 1, 2 or 5 times a power of ten. */
function niceTicks(lo, hi, given) {
  if (Array.isArray(given) && given.length) return given.filter((v) => v >= lo - 1e-9 && v <= hi + 1e-9);
  const span = hi - lo || 1;
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Math.abs(v) < 1e-12 ? 0 : v);
  return ticks;
}

/** The builder's own hover template (e.g. "offset %{x}<br>s = %{y:.4g}<extra></extra>") filled
 *  in for one bar, as lines: the same words Plotly would show. */
function hoverLines(template, x, y) {
  return template
    .replace(/<extra>.*?<\/extra>/g, "")
    .replace(/%\{x\}/g, x)
    .replace(/%\{y(:[^}]*)?\}/g, String(Number(y.toPrecision(4))))
    .split(/<br\s*\/?>/i);
}

const tickText = (v) => String(Number(v.toPrecision(3))).replace("-", "−");

/** Title text without Plotly's markup (<sub>, <br>): the PNG and the SVG both show plain text. */
const plainTitle = (t) => String(t ?? "").replace(/<br\s*\/?>/gi, " ").replace(/<[^>]+>/g, "");

class SvgBars {
  /** `div`: the figure's container; `figure`: Plotly JSON with one bar trace. */
  constructor(div, figure, { font = "sans-serif", color = "#31333f", muted = "#808495" } = {}) {
    this.div = div;
    this.font = font;
    this.textColor = color;
    this.muted = muted;
    const trace = figure.data[0];
    const layout = figure.layout ?? {};
    this.labels = Array.from(trace.x ?? Array.from(trace.y, (_, i) => String(i)), String);
    this.color = trace.marker?.color ?? "#1f77b4";
    this.hasText = trace.text !== undefined && trace.text !== null;
    this.hovertemplate = trace.hovertemplate ?? "%{x}<br>%{y}";
    this.title = plainTitle(layout.title?.text ?? layout.title ?? "");
    this.xTitle = plainTitle(layout.xaxis?.title?.text ?? "");
    this.height = layout.height ?? 200;
    this.margin = { l: 40, r: 8, t: 36, b: 32, ...(layout.margin ?? {}) };
    this.givenTicks = layout.yaxis?.tickvals;
    this.range = layout.yaxis?.range ?? [-1, 1];
    this.values = Float64Array.from(trace.y);
    this.colors = Array.isArray(this.color) ? [...this.color] : null;
    this.texts = this.hasText ? Array.from(trace.text, String) : null;
    this.width = 0;
  }

  /** Build the SVG at `width` pixels and show the current values. */
  draw(width) {
    this.width = width;
    const { l, r, t, b } = this.margin;
    const W = width;
    const H = this.height;
    this.plot = { x: l, y: t, w: Math.max(10, W - l - r), h: Math.max(10, H - t - b) };
    const svg = svgEl("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "svgbars", role: "img" });
    svg.style.fontFamily = this.font;
    svg.append(svgEl("rect", { x: 0, y: 0, width: W, height: H, fill: "white" }));
    if (this.title) svg.append(svgEl("text", { x: 6, y: 20, "font-size": 13, "font-weight": 600, fill: this.textColor }, this.title));
    this.axis = svgEl("g", { class: "yaxis" });
    svg.append(this.axis);
    svg.append(this.xAxis());
    this.barGroup = svgEl("g", { class: "bars" });
    this.bars = this.labels.map((label, i) => {
      const bar = svgEl("rect", { class: "bar", "data-index": i });
      this.barGroup.append(bar);
      return bar;
    });
    this.textNodes = this.hasText
      ? this.labels.map(() => {
        const node = svgEl("text", { class: "label", "text-anchor": "middle", "font-size": 12, fill: this.textColor });
        this.barGroup.append(node);
        return node;
      })
      : [];
    svg.append(this.barGroup);
    this.svg = svg;
    this.drawnRange = null;
    this.div.replaceChildren(svg, this.cameraButton());
    this.hover();
    this.update(this.values, this.colors, this.texts, this.range);
  }

  /** Category labels under the bars, thinned so they do not collide. */
  xAxis() {
    const g = svgEl("g", { class: "xaxis" });
    const { x, y, w, h } = this.plot;
    const band = w / this.labels.length;
    const every = Math.max(1, Math.ceil(18 / band));
    this.labels.forEach((label, i) => {
      if (i % every) return;
      g.append(svgEl("text", { x: x + (i + 0.5) * band, y: y + h + 15, "text-anchor": "middle", "font-size": 12, fill: this.muted }, label.replace("-", "−")));
    });
    if (this.xTitle) g.append(svgEl("text", { x: x + w / 2, y: y + h + 31, "text-anchor": "middle", "font-size": 13, fill: this.muted }, this.xTitle));
    return g;
  }

  yOf(v) {
    const [lo, hi] = this.range;
    const { y, h } = this.plot;
    return y + h * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo));
  }

  /** Grid lines, tick labels and the zero line for the current range. */
  drawAxis() {
    const [lo, hi] = this.range;
    const { x, w } = this.plot;
    this.axis.replaceChildren();
    for (const v of niceTicks(lo, hi, this.givenTicks)) {
      const y = this.yOf(v);
      const zero = Math.abs(v) < 1e-12 && lo < 0;
      this.axis.append(svgEl("line", { x1: x, x2: x + w, y1: y, y2: y, stroke: zero ? "#888" : "#eee", "stroke-width": 1 }));
      this.axis.append(svgEl("text", { x: x - 6, y: y + 4, "text-anchor": "end", "font-size": 12, fill: this.muted }, tickText(v)));
    }
    this.svg.setAttribute("data-range", `${lo},${hi}`);
    this.drawnRange = `${lo},${hi}`;
  }

  /** New values (and per-bar colours, labels, y-range where given): only attributes change. */
  update(values, colors = null, texts = null, range = null) {
    this.values = values;
    if (colors) this.colors = colors;
    if (texts) this.texts = texts;
    if (range) this.range = range;
    if (!this.svg) return;
    if (this.drawnRange !== `${this.range[0]},${this.range[1]}`) this.drawAxis();
    const { x, w } = this.plot;
    const band = w / this.labels.length;
    const zeroY = this.yOf(Math.max(this.range[0], Math.min(this.range[1], 0)));
    for (let i = 0; i < this.bars.length; i++) {
      const v = values[i];
      const top = this.yOf(v);
      const bar = this.bars[i];
      bar.setAttribute("x", x + (i + BAR_GAP / 2) * band);
      bar.setAttribute("width", band * (1 - BAR_GAP));
      bar.setAttribute("y", Math.min(top, zeroY));
      bar.setAttribute("height", Math.max(0, Math.abs(zeroY - top)));
      bar.setAttribute("fill", this.colors ? this.colors[i] : this.color);
      bar.setAttribute("data-value", String(v));
      const label = this.textNodes[i];
      if (label) {
        label.setAttribute("x", x + (i + 0.5) * band);
        label.setAttribute("y", Math.min(top, zeroY) - 4);
        label.textContent = this.texts[i];
      }
    }
    if (this.tip?.index >= 0) this.showTip(this.tip.index);
  }

  /** A Plotly-like hover label with the bar's exact value. */
  hover() {
    this.tip = { node: null, index: -1 };
    const hide = () => {
      this.tip.node?.remove();
      this.tip = { node: null, index: -1 };
    };
    this.barGroup.addEventListener("mousemove", (event) => {
      const index = Number(event.target?.dataset?.index);
      if (Number.isInteger(index) && index !== this.tip.index) this.showTip(index);
    });
    this.barGroup.addEventListener("mouseleave", hide);
  }

  showTip(index) {
    this.tip.node?.remove();
    const bar = this.bars[index];
    const x = Number(bar.getAttribute("x")) + Number(bar.getAttribute("width")) / 2;
    const y = Math.max(this.plot.y + 8, Math.min(Number(bar.getAttribute("y")), this.plot.y + this.plot.h - 34));
    const lines = hoverLines(this.hovertemplate, this.labels[index].replace("-", "−"), this.values[index]);
    const g = svgEl("g", { class: "tip", "pointer-events": "none" });
    const text = svgEl("text", { "font-size": 13, fill: this.textColor });
    lines.forEach((line, i) => text.append(svgEl("tspan", { x: 0, dy: i ? 16 : 0 }, line)));
    g.append(svgEl("rect", { rx: 3, fill: "white", stroke: "#d5dae5" }), text);
    this.svg.append(g);
    const box = text.getBBox();
    const left = Math.min(this.width - box.width - 12, Math.max(4, x + 8));
    g.setAttribute("transform", `translate(${left},${y})`);
    text.setAttribute("transform", "translate(6,16)");
    const rect = g.firstChild;
    rect.setAttribute("width", box.width + 12);
    rect.setAttribute("height", box.height + 10);
    this.tip = { node: g, index };
  }

  /** The camera: this figure as a PNG, at twice its size, named by `filename()`. */
  cameraButton() {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "svgbars-png";
    button.title = "Download plot as a PNG";
    button.setAttribute("aria-label", `Download ${this.title || "figure"} as a PNG`);
    button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M9 3 7.2 5H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15 3H9zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6z"/></svg>';
    button.addEventListener("click", () => this.savePng());
    return button;
  }

  filename() {
    return "figure";
  }

  async savePng() {
    const copy = this.svg.cloneNode(true);
    copy.querySelector(".tip")?.remove();
    copy.setAttribute("xmlns", SVG_NS);
    const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(copy)], { type: "image/svg+xml" }));
    try {
      const image = new Image();
      await new Promise((resolve, reject) => {
        image.onload = resolve;
        image.onerror = () => reject(new Error("could not draw the figure"));
        image.src = url;
      });
      const canvas = document.createElement("canvas");
      canvas.width = this.width * 2;
      canvas.height = this.height * 2;
      const ctx = canvas.getContext("2d");
      ctx.scale(2, 2);
      ctx.drawImage(image, 0, 0);
      const link = document.createElement("a");
      link.download = `${this.filename()}.png`;
      link.href = canvas.toDataURL("image/png");
      link.click();
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}
