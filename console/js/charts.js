// Bar charts as plain SVG: one bar per point, the value in a <title> and data-* attributes (tests and
// screen readers read them), a zero line and the largest value as the only grid line.
const SVG = "http://www.w3.org/2000/svg";

function node(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

// The bar heights in pixels for values, the largest reaching `height` (all zero: no bars).
export function barHeights(values, height) {
  const top = Math.max(0, ...values);
  return values.map((value) => (top > 0 && value > 0 ? Math.max(1, Math.round((value / top) * height)) : 0));
}

// points: [{label, value}] (value an integer); format(value) labels the tooltip and the top line.
export function barChart(points, { metric, format = String, width = 340, height = 140 } = {}) {
  const margin = { top: 14, bottom: 18, left: 4, right: 4 };
  const plot = height - margin.top - margin.bottom;
  const slot = (width - margin.left - margin.right) / Math.max(points.length, 1);
  const heights = barHeights(points.map((p) => p.value), plot);
  const svg = node("svg", {
    class: "bars",
    viewBox: `0 0 ${width} ${height}`,
    width: "100%",
    role: "img",
    "data-metric": metric || "",
    "data-total": String(points.reduce((sum, p) => sum + p.value, 0)),
  });
  const base = margin.top + plot;
  svg.append(node("line", { x1: margin.left, x2: width - margin.right, y1: base, y2: base }));
  const top = Math.max(0, ...points.map((p) => p.value));
  if (top > 0) {
    svg.append(node("line", { x1: margin.left, x2: width - margin.right, y1: margin.top, y2: margin.top, "stroke-dasharray": "2 3" }));
    svg.append(node("text", { x: margin.left, y: margin.top - 3 }, format(top)));
  }
  points.forEach((point, index) => {
    const x = margin.left + index * slot + slot * 0.15;
    const bar = node("rect", {
      class: "bar",
      x: x.toFixed(1),
      y: String(base - heights[index]),
      width: (slot * 0.7).toFixed(1),
      height: String(heights[index]),
      "data-label": point.label,
      "data-value": String(point.value),
    });
    bar.append(node("title", {}, `${point.label}: ${format(point.value)}`));
    svg.append(bar);
  });
  const step = Math.max(1, Math.ceil(points.length / 7));
  points.forEach((point, index) => {
    if (index % step === 0 || index === points.length - 1) {
      svg.append(node("text", { x: (margin.left + index * slot).toFixed(1), y: height - 4 }, point.label.slice(5)));
    }
  });
  return svg;
}
