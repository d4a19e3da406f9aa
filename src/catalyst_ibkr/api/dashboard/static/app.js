// catalyst-ibkr dashboard. Plain browser JavaScript, no build step, no third-party code.
//
// What it reads: /v1/watchdog (gateway health, interlock, pacing headroom, alerts),
// /v1/risk, /v1/positions, /v1/account, /v1/orders?open_only=true, and the live event
// stream /v1/events (server-sent events, read with fetch so the API key can be sent as a
// header; EventSource cannot send one). Recent fills and denials come from that stream:
// on load it replays the journal (?after=0) and keeps the newest of each.
//
// Safety: data is only ever written with textContent (never parsed as HTML). The API key
// lives in this tab's sessionStorage; the admin key is asked for every state change and
// never stored. Money and quantities stay the decimal strings the API sends.
"use strict";

(() => {
  const KEEP = 25; // rows kept in the fills / denials tables
  const POLL_MS = 5000; // ages and headroom change without events
  const $ = (id) => document.getElementById(id);
  const state = {
    apiKey: sessionStorage.getItem("catalyst.apiKey") || "",
    lastEventId: 0,
    fills: [],
    fillIds: new Set(),
    denials: [],
    denialIds: new Set(),
    pending: new Set(),
    timer: null,
    keyPrompt: null,
  };

  // -- small helpers ---------------------------------------------------------------------

  function text(id, value, cls) {
    const el = $(id);
    el.textContent = value === null || value === undefined || value === "" ? "–" : String(value);
    if (cls !== undefined) el.className = cls;
  }

  function yesNo(value, good) {
    if (value === null || value === undefined) return ["–", ""];
    return [value ? "yes" : "no", value === good ? "ok" : "bad"];
  }

  function decimal(value) {
    if (value === null || value === undefined || value === "") return "–";
    const s = String(value);
    const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
    if (!m) return s;
    return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (m[3] || "");
  }

  function signClass(value) {
    if (value === null || value === undefined) return "";
    return String(value).startsWith("-") ? "bad" : String(value).match(/[1-9]/) ? "ok" : "";
  }

  function clock(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleTimeString();
  }

  function ago(iso) {
    if (!iso) return "–";
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    return clock(iso) + " (" + (s < 120 ? s + " s" : Math.round(s / 60) + " min") + " ago)";
  }

  function cellRow(cells, className) {
    const tr = document.createElement("tr");
    if (className) tr.className = className;
    for (const cell of cells) {
      const td = document.createElement("td");
      const [value, cls] = Array.isArray(cell) ? cell : [cell, ""];
      td.textContent = value === null || value === undefined || value === "" ? "–" : String(value);
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    return tr;
  }

  function fillTable(id, rows, emptyText, columns) {
    const body = $(id);
    body.replaceChildren();
    if (!rows.length) {
      const tr = cellRow([emptyText], "empty");
      tr.firstChild.colSpan = columns;
      body.appendChild(tr);
      return;
    }
    for (const row of rows) body.appendChild(row);
  }

  function banner(message) {
    const el = $("banner");
    el.hidden = !message;
    el.textContent = message || "";
  }

  // -- keys and requests -----------------------------------------------------------------

  function askKey(title, help) {
    const dialog = $("key-dialog");
    $("key-title").textContent = title;
    $("key-help").textContent = help;
    $("key-input").value = "";
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () => resolve(dialog.returnValue === "ok" && $("key-input").value ? $("key-input").value : null),
        { once: true },
      );
      dialog.returnValue = "";
      dialog.showModal();
      $("key-input").focus();
    });
  }

  async function apiKeyNeeded() {
    if (!state.keyPrompt) {
      state.keyPrompt = askKey("API key", "This service needs its API key (CATALYST_API_KEY). Kept in this tab only.")
        .then((key) => {
          if (key) {
            state.apiKey = key;
            sessionStorage.setItem("catalyst.apiKey", key);
          }
          return key;
        })
        .finally(() => { state.keyPrompt = null; });
    }
    return state.keyPrompt;
  }

  function authHeaders(key) {
    const headers = { Accept: "application/json" };
    if (key) headers.Authorization = "Bearer " + key;
    return headers;
  }

  async function getJson(path, { allow503 = false } = {}) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await fetch(path, { headers: authHeaders(state.apiKey), cache: "no-store" });
      if (response.status === 401 && attempt === 0) {
        if (!(await apiKeyNeeded())) throw new Error("an API key is needed to read " + path);
        continue;
      }
      if (response.ok || (allow503 && response.status === 503)) return response.json();
      throw new Error(path + " answered HTTP " + response.status);
    }
    throw new Error("the API key was not accepted");
  }

  async function adminPost(path, body, question) {
    const key = await askKey("Admin key", question);
    if (!key) return null;
    const response = await fetch(path, {
      method: "POST",
      headers: { ...authHeaders(key), "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let answer = null;
    try { answer = await response.json(); } catch (_) { answer = null; }
    if (!response.ok) {
      const detail = answer && (answer.detail || answer.title) ? (answer.detail || answer.title) : "HTTP " + response.status;
      throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    }
    return answer;
  }

  // -- panels ----------------------------------------------------------------------------

  const PHASE_CLASS = {
    healthy: "ok", daily_reset: "info", recovering: "warn", ibeam: "warn", restarting: "warn",
    competing: "bad", needs_person: "bad", starting: "off",
  };

  function renderOps(ops) {
    const mode = ops.mode || "?";
    text("mode", mode.toUpperCase(), "badge" + (mode === "live" ? " live-mode" : " info"));
    text("account", ops.account ? "account " + ops.account : "");
    const il = ops.interlock;
    if (il && il.tripped) {
      text("gw-interlock", "TRIPPED: " + il.problem, "bad");
      banner("Trading refused by the paper/live interlock: " + il.problem);
    } else {
      text("gw-interlock", il ? "ok (" + mode + ")" : "–", il ? "ok" : "");
      banner(null);
    }
    const wd = ops.watchdog;
    if (wd) {
      text("gw-phase", wd.phase.replace("_", " "), "pill " + (PHASE_CLASS[wd.phase] || ""));
      text("gw-detail", wd.session_state + (wd.detail ? " – " + wd.detail : ""));
      const [a, ac] = yesNo(wd.authenticated, true);
      const [c, cc] = yesNo(wd.connected, true);
      const [k, kc] = yesNo(wd.competing, false);
      text("gw-auth", a, ac);
      text("gw-conn", c, cc);
      text("gw-comp", k, kc);
      text("gw-tickle", ago(wd.last_tickle_at));
      if (wd.ws_heartbeat_age_s === null || wd.ws_heartbeat_age_s === undefined) {
        text("gw-ws", "not reported", "muted");
      } else {
        text("gw-ws", wd.ws_heartbeat_age_s.toFixed(1) + " s ago" + (wd.ws_stale ? " (silent)" : ""),
          wd.ws_stale ? "bad" : "ok");
      }
      text("gw-reset", wd.in_daily_reset ? "in the window now (holding, no alarm)"
        : "next " + (wd.next_daily_reset_at ? new Date(wd.next_daily_reset_at).toLocaleString() : "–"),
        wd.in_daily_reset ? "info" : "");
      text("gw-since", wd.unhealthy_since ? ago(wd.unhealthy_since) : "healthy");
      text("gw-steps", "reauth ×" + wd.reauth_attempts + ", IBeam ×" + wd.ibeam_activations +
        ", restarts ×" + wd.restarts);
      text("gw-rec", wd.reconciliation_state
        ? wd.reconciliation_state + (wd.last_reconciliation_at ? ", last " + ago(wd.last_reconciliation_at) : "")
        : "–");
      const log = $("gw-actions");
      log.replaceChildren();
      const items = [
        ...(ops.alerts || []).map((al) => [al.at, al.kind + " [" + al.key + "] " + al.title + (al.detail ? ": " + al.detail : "")]),
        ...(wd.actions || []).filter((ac2) => ac2.step !== "alert").map((ac2) => [ac2.at, ac2.step + (ac2.ok ? "" : " (failed)") + ": " + ac2.detail]),
      ].sort((x, y) => (x[0] < y[0] ? 1 : -1));
      for (const [at, line] of items.slice(0, 30)) {
        const li = document.createElement("li");
        li.textContent = clock(at) + " " + line;
        log.appendChild(li);
      }
    } else {
      text("gw-phase", "no watchdog", "pill off");
      text("gw-detail", ops.detail || "");
    }
    renderPacing(ops.pacing || []);
  }

  function renderPacing(rows) {
    const out = rows.map((r) => {
      const tr = cellRow([
        r.scope,
        r.limit + " / " + r.per_s + " s",
        [r.used, "num"],
        [r.remaining, "num"],
        "",
        r.paused_until ? "until " + clock(new Date(r.paused_until * 1000).toISOString()) : "no",
      ]);
      const bar = document.createElement("div");
      const share = r.limit ? r.remaining / r.limit : 0;
      bar.className = "bar" + (share === 0 ? " none" : share < 0.3 ? " low" : "");
      const fill = document.createElement("span");
      fill.style.width = Math.round(share * 100) + "%";
      bar.appendChild(fill);
      tr.children[4].textContent = "";
      tr.children[4].appendChild(bar);
      if (r.paused_until) tr.children[5].className = "bad";
      return tr;
    });
    fillTable("pacing-rows", out, "no pacing data (socket backend, or not started)", 6);
  }

  function renderRisk(risk) {
    const cls = { ACTIVE: "ok", REDUCING: "warn", HALTED: "bad" }[risk.trading_state] || "";
    text("tr-state", risk.trading_state, "pill " + cls);
    text("tr-hold", risk.broker_hold ? "broker hold: " + (risk.hold_reasons || []).join(", ") : "no broker hold",
      risk.broker_hold ? "warn" : "muted");
    text("tr-by", risk.trading_state_changed_by
      ? risk.trading_state_changed_by + " at " + clock(risk.trading_state_changed_at) : "–");
    text("tr-open", risk.open_orders);
    text("tr-doubt", risk.in_doubt_orders, risk.in_doubt_orders > 0 ? "warn" : "");
    text("tr-notional", decimal(risk.working_notional));
    text("tr-exposure", decimal(risk.gross_exposure));
  }

  function renderAccount(account) {
    text("ac-netliq", decimal(account.net_liquidation));
    text("ac-bp", decimal(account.buying_power));
    text("ac-cash", decimal(account.cash));
    text("ac-real", decimal(account.realized_pnl), signClass(account.realized_pnl));
    text("ac-unreal", decimal(account.unrealized_pnl), signClass(account.unrealized_pnl));
    if (account.account) text("account", "account " + account.account);
  }

  function renderPositions(positions) {
    const rows = positions
      .filter((p) => p.quantity !== "0" || (p.broker_quantity && p.broker_quantity !== "0"))
      .map((p) => cellRow([
        p.symbol,
        [decimal(p.quantity), "num"],
        [decimal(p.avg_price), "num"],
        [decimal(p.mark_price), "num"],
        [decimal(p.unrealized_pnl), "num " + signClass(p.unrealized_pnl)],
        [decimal(p.realized_pnl), "num " + signClass(p.realized_pnl)],
        p.drift ? ["drift: broker " + decimal(p.broker_quantity), "bad"] : (p.broker_quantity === null ? "not reported" : "agrees"),
      ]));
    fillTable("positions", rows, "no positions", 7);
  }

  function renderOrders(orders) {
    const rows = orders.map((o) => cellRow([
      o.order_ref,
      o.symbol,
      [o.side, o.side === "BUY" ? "ok" : "bad"],
      [decimal(o.quantity), "num"],
      [decimal(o.filled_quantity), "num"],
      o.order_type + " " + o.tif,
      [decimal(o.limit_price), "num"],
      o.status,
    ]));
    fillTable("working", rows, "no working orders", 8);
  }

  function renderFills() {
    const rows = state.fills.map((f) => cellRow([
      clock(f.time),
      f.symbol,
      [f.side, f.side === "BUY" ? "ok" : "bad"],
      [decimal(f.quantity), "num"],
      [decimal(f.price), "num"],
    ], f.fresh ? "fresh" : ""));
    fillTable("fill-rows", rows, "no fills yet", 5);
  }

  function renderDenials() {
    const rows = state.denials.map((d) => cellRow([d.id, [d.status, "bad"], d.reason_code || d.reason || ""]));
    fillTable("denial-rows", rows, "no denials", 3);
  }

  // -- refreshing ------------------------------------------------------------------------

  const LOADERS = {
    ops: async () => renderOps(await getJson("/v1/watchdog")),
    risk: async () => renderRisk(await getJson("/v1/risk")),
    portfolio: async () => {
      const [positions, account] = await Promise.all([getJson("/v1/positions"), getJson("/v1/account")]);
      renderPositions(positions);
      renderAccount(account);
    },
    orders: async () => renderOrders(await getJson("/v1/orders?open_only=true")),
  };

  async function refresh(names) {
    const results = await Promise.allSettled(names.map((name) => LOADERS[name]()));
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length) {
      console.warn("refresh failed", failed.map((r) => String(r.reason)));
      if (!$("banner").textContent.startsWith("Trading refused")) banner(String(failed[0].reason.message || failed[0].reason));
    }
    $("updated").textContent = new Date().toLocaleTimeString();
  }

  function soon(...names) {
    for (const name of names) state.pending.add(name);
    if (state.timer) return;
    state.timer = setTimeout(() => {
      const names2 = [...state.pending];
      state.pending.clear();
      state.timer = null;
      refresh(names2);
    }, 150);
  }

  // -- live events -----------------------------------------------------------------------

  function onEvent(event) {
    const data = event.data || {};
    if (event.kind === "fill") {
      const id = data.execution_id || String(event.id);
      if (!state.fillIds.has(id)) {
        state.fillIds.add(id);
        state.fills.unshift({ ...data, time: data.time || event.at, fresh: state.live });
        state.fills.length = Math.min(state.fills.length, KEEP);
        renderFills();
      }
      soon("portfolio", "orders", "risk");
    } else if (event.kind === "signal") {
      if (data.status === "DENIED" || data.status === "REJECTED" || data.status === "EXPIRED") {
        const key = data.id + "/" + data.status;
        if (!state.denialIds.has(key)) {
          state.denialIds.add(key);
          state.denials.unshift({ id: data.id, status: data.status, reason_code: data.reason_code, reason: data.reason });
          state.denials.length = Math.min(state.denials.length, KEEP);
          renderDenials();
        }
      }
      soon("risk");
    } else if (event.kind === "order") {
      soon("orders", "risk");
    } else {
      soon("ops", "risk"); // health, risk, alert, reconciliation
    }
  }

  function setLive(on) {
    state.live = on;
    text("live", on ? "live" : "offline", "badge " + (on ? "ok" : "off"));
  }

  async function streamEvents() {
    for (;;) {
      try {
        const response = await fetch("/v1/events?after=" + state.lastEventId, {
          headers: { ...authHeaders(state.apiKey), Accept: "text/event-stream" },
          cache: "no-store",
        });
        if (response.status === 401) {
          await apiKeyNeeded();
          continue;
        }
        if (!response.ok || !response.body) throw new Error("events: HTTP " + response.status);
        setLive(true);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const dataLines = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart());
            if (!dataLines.length) continue;
            try {
              const event = JSON.parse(dataLines.join("\n"));
              if (typeof event.id === "number") state.lastEventId = Math.max(state.lastEventId, event.id);
              onEvent(event);
            } catch (err) {
              console.warn("bad event", err);
            }
          }
        }
      } catch (err) {
        console.warn("event stream", err);
      }
      setLive(false);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  // -- actions ---------------------------------------------------------------------------

  async function kill() {
    $("tr-result").textContent = "";
    try {
      const report = await adminPost("/v1/kill", undefined,
        "Kill switch: set HALTED and cancel every working order at IBKR. Enter the admin key (CATALYST_ADMIN_KEY).");
      if (!report) return;
      $("tr-result").textContent = "Kill switch: " + report.trading_state + ", cancel " + report.cancel_status +
        (report.verified ? ", verified: no working order remains" : ", NOT verified: " + (report.remaining || []).length + " may remain") +
        (report.detail ? " – " + report.detail : "");
      $("tr-result").className = report.verified ? "ok" : "bad";
    } catch (err) {
      $("tr-result").textContent = "Kill switch failed: " + err.message;
      $("tr-result").className = "bad";
    }
    soon("risk", "orders", "ops");
  }

  async function setTradingState(target) {
    $("tr-result").textContent = "";
    try {
      const risk = await adminPost("/v1/risk/state", { state: target },
        "Set the trading state to " + target + ". Enter the admin key (CATALYST_ADMIN_KEY).");
      if (!risk) return;
      renderRisk(risk);
      $("tr-result").textContent = "Trading state is " + risk.trading_state + ".";
      $("tr-result").className = "muted";
    } catch (err) {
      $("tr-result").textContent = "Not changed: " + err.message;
      $("tr-result").className = "bad";
    }
  }

  function start() {
    $("kill").addEventListener("click", kill);
    for (const button of document.querySelectorAll("button[data-state]")) {
      button.addEventListener("click", () => setTradingState(button.dataset.state));
    }
    $("key-button").addEventListener("click", async () => {
      const key = await askKey("API key", "Replace the API key this tab sends (CATALYST_API_KEY).");
      if (key) {
        state.apiKey = key;
        sessionStorage.setItem("catalyst.apiKey", key);
        refresh(Object.keys(LOADERS));
      }
    });
    setLive(false);
    refresh(Object.keys(LOADERS)).then(streamEvents);
    setInterval(() => soon("ops", "risk"), POLL_MS);
    setInterval(() => soon("portfolio", "orders"), POLL_MS * 3);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
