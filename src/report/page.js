// Draws fleetsim's run timelines from the JSON embedded in the page (#fleetsim-data): one
// section per run, a lane per host grouped by inventory group (collapsible, drawn when
// opened), a lane per load balancer with requests per virtual second, faults as shaded
// bands, invariant violations as markers. Hovering any mark shows its details.
"use strict";
(function () {
  const runs = JSON.parse(document.getElementById("fleetsim-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = {
    ok: "#4caf50", changed: "#ffb300", failed: "#e53935", unreachable: "#6a1b9a",
    skipped: "#90a4ae", ignored: "#ef9a9a",
    up: "#66bb6a", starting: "#ba68c8", unhealthy: "#fb8c00", down: "#b71c1c",
    active: "#43a047", draining: "#fdd835", out: "#cfd8dc",
  };
  const LABEL_W = 170, ROW = 12, GAP = 3;

  function el(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function tip(node, text) { el("title", {}, node).textContent = text; }
  function html(tag, text, parent, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }

  function axis(svg, x, width, end, y) {
    const step = niceStep(end);
    for (let t = 0; t <= end + 1e-9; t += step) {
      el("line", { x1: x(t), x2: x(t), y1: 0, y2: y, stroke: "#eceff1" }, svg);
      el("text", { x: x(t) + 2, y: y + 10, "font-size": 9, fill: "#607d8b" }, svg)
        .textContent = t.toFixed(step < 1 ? 1 : 0) + " s";
    }
  }
  function niceStep(end) {
    const raw = Math.max(end, 1) / 10;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
    return 10 * p;
  }

  function hostLane(run, host, width) {
    const end = Math.max(run.end, 0.001);
    const plotW = width - LABEL_W - 10;
    const x = (t) => LABEL_W + (t / end) * plotW;
    const lbs = Object.keys(host.pools);
    const rows = 1 + (host.app.length ? 1 : 0) + lbs.length;
    const h = rows * (ROW + GAP) + 4;
    const svg = el("svg", { width: width, height: h, class: "lane", "data-host": host.name });
    for (const f of host.faults) {
      const band = el("rect", { x: x(f.from), y: 0, width: Math.max(x(f.until) - x(f.from), 1),
        height: h, fill: "url(#hatch)", opacity: 0.6, class: "fault" }, svg);
      tip(band, `fault ${f.state} on ${host.name}: ${f.from} s to ${f.until} s (${f.detail})`);
    }
    let y = 2;
    const row = (label, spans, kind) => {
      el("text", { x: 4, y: y + ROW - 2, "font-size": 10 }, svg).textContent = label;
      for (const s of spans) {
        const r = el("rect", { x: x(s.from), y: y, width: Math.max(x(s.until) - x(s.from), 1.5),
          height: ROW, fill: COLORS[s.state] || "#9e9e9e", class: kind, "data-state": s.state }, svg);
        let text = `${host.name} ${kind}: ${s.label ? s.label + " " : ""}${s.state}, ${s.from} s to ${s.until} s`;
        if (s.detail) text += `\n${s.detail}`;
        tip(r, text);
      }
      y += ROW + GAP;
    };
    row(host.name, host.tasks, "task");
    if (host.app.length) row("  app", host.app, "app");
    for (const lb of lbs) row("  pool " + lb, host.pools[lb], "pool");
    for (const v of run.violations) {
      if (!v.hosts.includes(host.name)) continue;
      const m = el("line", { x1: x(v.at), x2: x(v.at), y1: 0, y2: h, stroke: "#d50000",
        "stroke-width": 2, class: "violation" }, svg);
      tip(m, `${v.invariant} at ${v.at} s${v.task ? " during [" + v.task + "]" : ""}: ${v.detail}`);
    }
    return svg;
  }

  function lbLane(run, lb, width) {
    const end = Math.max(run.end, 0.001);
    const plotW = width - LABEL_W - 10;
    const x = (t) => LABEL_W + (t / end) * plotW;
    const h = 46;
    const max = Math.max(1, ...lb.per_second.map((c) => c[1]));
    const svg = el("svg", { width: width, height: h + 12, class: "lane lb", "data-lb": lb.name });
    el("text", { x: 4, y: 14, "font-size": 10 }, svg).textContent = lb.name;
    el("text", { x: 4, y: 28, "font-size": 9, fill: "#607d8b" }, svg)
      .textContent = `${lb.requests} req, ${lb.failed} failed`;
    axis(svg, x, plotW, end, h);
    for (const [sec, req, failed] of lb.per_second) {
      const w = Math.max(x(sec + 1) - x(sec) - 0.5, 1);
      const okH = ((req - failed) / max) * (h - 4), badH = (failed / max) * (h - 4);
      const g = el("g", { class: "second", "data-second": sec, "data-failed": failed }, svg);
      el("rect", { x: x(sec), y: h - okH, width: w, height: okH, fill: "#90caf9" }, g);
      el("rect", { x: x(sec), y: h - okH - badH, width: w, height: badH, fill: "#e53935" }, g);
      tip(g, `${lb.name}, second ${sec}: ${req} requests, ${failed} failed`);
    }
    for (const v of run.violations) {
      if (v.lb !== lb.name) continue;
      const m = el("line", { x1: x(v.at), x2: x(v.at), y1: 0, y2: h, stroke: "#d50000",
        "stroke-width": 2, class: "violation" }, svg);
      tip(m, `${v.invariant} at ${v.at} s: ${v.detail}`);
    }
    return svg;
  }

  function table(parent, head, rows) {
    const t = html("table", undefined, parent);
    const tr = html("tr", undefined, t);
    for (const h of head) html("th", h, tr);
    for (const r of rows) {
      const row = html("tr", undefined, t);
      for (const c of r) html("td", String(c), row);
    }
    return t;
  }

  const root = document.getElementById("runs");
  const width = Math.max(900, Math.min(1800, window.innerWidth - 40));
  runs.forEach((run, i) => {
    const sec = html("section", undefined, root, "run");
    html("h2", (runs.length > 1 ? `${i + 1}. ` : "") + run.title, sec);
    const verdict = run.expected_exit === null
      ? `exit ${run.exit_code}`
      : `exit ${run.exit_code} (the lab expects ${run.expected_exit})`;
    html("p", `${verdict} · seed ${run.seed} · start ${run.start_time} · ${run.end} virtual seconds`, sec);
    html("pre", "$ " + run.replay, sec, "replay");
    const groups = new Map();
    for (const h of run.hosts) {
      if (!groups.has(h.group)) groups.set(h.group, []);
      groups.get(h.group).push(h);
    }
    if (run.lbs.length) {
      const d = html("details", undefined, sec, "group");
      d.open = true;
      html("summary", `load balancers: requests per virtual second (${run.requests} requests, ${run.failed_requests} failed)`, d);
      for (const lb of run.lbs) d.appendChild(lbLane(run, lb, width));
    }
    for (const [group, hosts] of groups) {
      const d = html("details", undefined, sec, "group");
      html("summary", `${group} (${hosts.length} hosts)`, d);
      let drawn = false;
      const draw = () => {
        if (drawn) return;
        drawn = true;
        for (const h of hosts) d.appendChild(hostLane(run, h, width));
      };
      d.addEventListener("toggle", () => { if (d.open) draw(); });
      // Small groups open at once; big ones wait to be opened (a page of 500 hosts stays fast).
      if (run.hosts.length <= 60 || hosts.length <= 10) { d.open = true; draw(); }
    }
    if (run.invariants.length) {
      html("h3", "FLEET REPORT", sec);
      table(sec, ["invariant", "result"], run.invariants.map(([n, ok]) => [n, ok ? "held" : "BROKEN"]));
      if (run.violations.length) {
        html("h3", "violations", sec);
        table(sec, ["at", "invariant", "task", "detail"],
          run.violations.map((v) => [v.at + " s", v.invariant, v.task || "", v.detail]));
      }
    }
    html("h3", "PLAY RECAP", sec);
    table(sec, ["host", "ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"],
      run.recap.map(([h, c]) => [h, ...c]));
  });
})();
