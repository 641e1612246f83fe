/* Shared by the components that draw with Plotly.js (prepended to each one's module). */

/**
 * Plotly.js puts its stylesheet in the document's head; the panel lives in a shadow root, where
 * those rules do not reach. Adopt a copy of them there (once per root).
 */
function adoptPlotlyStyles(node) {
  const root = node.getRootNode();
  if (!(root instanceof ShadowRoot) || root.__ntmPlotlyStyles) return;
  const rules = [];
  for (const style of document.querySelectorAll('style[id^="plotly.js-style"]')) {
    for (const rule of style.sheet?.cssRules || []) rules.push(rule.cssText);
  }
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(rules.join("\n"));
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  root.__ntmPlotlyStyles = sheet;
}

/**
 * The live weighting, shared with the read and write figures further down the page (they are
 * other components on the same page): the latest value per channel, and an event per frame.
 */
function liveBus() {
  if (!globalThis.ntmLive) {
    globalThis.ntmLive = { latest: new Map(), events: new EventTarget() };
  }
  return globalThis.ntmLive;
}
