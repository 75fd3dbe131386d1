// rvs console: refreshes the monitor's live part and draws the rate charts. Plain DOM, no
// framework; the pages work without it. Everything drawn from data goes through textContent
// or SVG attributes, never innerHTML, except the server's own escaped fragment.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

async function refreshLive(live) {
  // A tab in the background asks nothing of the director.
  if (document.hidden) return;
  try {
    const r = await fetch(live.dataset.src, { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) { window.location.assign("/login"); return; }
    if (r.ok) { live.innerHTML = await r.text(); live.dataset.updated = String(Date.now()); }
  } catch (e) { /* rvsd restarting: try again at the next tick */ }
}

function human(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(1) + "G";
  if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + "K";
  return n >= 10 || n === 0 ? String(Math.round(n)) : n.toFixed(1);
}

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// One chart: a line of `values` over the last hour, its peak written in the corner.
function chart(title, points, key, now) {
  const w = 360, h = 110, left = 4, top = 18;
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart", role: "img", "aria-label": title });
  const peak = Math.max(0, ...points.map(p => p[key]));
  // The scale's floor of 1 keeps an idle service's line on the axis; the title gives the truth.
  const max = Math.max(1, peak);
  svg.appendChild(el("rect", { x: 0, y: 0, width: w, height: h, class: "chart-bg" }));
  svg.appendChild(el("text", { x: left, y: 13, class: "chart-title" }, `${title} (peak ${human(peak)})`));
  const x = t => left + (w - 2 * left) * (1 - Math.min(3600, Math.max(0, now - t)) / 3600);
  const y = v => h - 4 - (h - top - 8) * (v / max);
  const d = points.map(p => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
  if (points.length > 0) svg.appendChild(el("polyline", { points: d, class: "chart-line" }));
  svg.appendChild(el("text", { x: w - left, y: h - 6, class: "chart-axis", "text-anchor": "end" }, "now"));
  svg.appendChild(el("text", { x: left, y: h - 6, class: "chart-axis" }, "-1 h"));
  return svg;
}

async function refreshCharts(box) {
  if (document.hidden && box.childElementCount > 0) return;
  let data;
  try {
    const r = await fetch(box.dataset.src, { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) { window.location.assign("/login"); return; }
    if (!r.ok) return;
    data = await r.json();
  } catch (e) { return; }
  const now = Date.now() / 1000;
  box.replaceChildren();
  const names = Object.keys(data.charts);
  if (names.length === 0) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "No virtual service yet.";
    box.appendChild(p);
  }
  for (const name of names) {
    const points = data.charts[name];
    const row = document.createElement("div");
    row.className = "chart-row";
    row.dataset.service = name;
    const h = document.createElement("h3");
    h.textContent = name;
    row.appendChild(h);
    row.appendChild(chart("connections/s", points, "cps", now));
    row.appendChild(chart("packets/s", points, "pps", now));
    row.appendChild(chart("bytes/s", points, "bps", now));
    box.appendChild(row);
  }
}

// The check form shows the fields of the chosen kind only.
function checkForm(form) {
  const kind = form.querySelector("select[name=kind]");
  if (!kind) return;
  const show = {
    none: [], tcp: ["interval", "timeout", "retry"],
    http: ["path", "status", "vhost", "interval", "timeout", "retry"],
    send_expect: ["send", "expect", "interval", "timeout", "retry"],
    udp: ["payload", "reply", "interval", "timeout", "retry"],
    dns: ["dns_type", "dns_name", "interval", "timeout", "retry"],
    ping: ["interval", "timeout", "retry"],
  };
  const all = ["path", "status", "vhost", "send", "expect", "payload", "reply", "dns_type", "dns_name", "interval", "timeout", "retry"];
  const update = () => {
    const visible = show[kind.value] || all;
    for (const name of all) {
      const input = form.querySelector(`[name=${name}]`);
      if (input) input.closest(".field").hidden = !visible.includes(name);
    }
  };
  kind.addEventListener("change", update);
  update();
}

// The service form asks for a firewall mark, or for an address and a port.
function serviceForm(form) {
  const protocol = form.querySelector("select[name=protocol]");
  if (!protocol) return;
  const update = () => {
    const fwm = protocol.value === "fwm";
    for (const [name, shown] of [["address", !fwm], ["port", !fwm], ["mark", fwm]]) {
      const input = form.querySelector(`[name=${name}]`);
      if (input) input.closest(".field").hidden = !shown;
    }
  };
  protocol.addEventListener("change", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live) setInterval(() => refreshLive(live), 2000);
  const charts = document.getElementById("charts");
  if (charts) { refreshCharts(charts); setInterval(() => refreshCharts(charts), 10000); }
  document.querySelectorAll("form[data-testid=check-form]").forEach(checkForm);
  document.querySelectorAll("form[data-testid=service-form]").forEach(serviceForm);
  // Deleting and disabling ask first: they cut connections off.
  document.querySelectorAll("button.danger, button.confirm").forEach(b => b.addEventListener("click", e => {
    const text = b.dataset.confirm || "Delete? Its connections are cut off; this is applied and saved at once.";
    if (!window.confirm(text)) e.preventDefault();
  }));
});
