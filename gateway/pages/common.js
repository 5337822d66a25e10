/* Shared by the public pages: the township from the address, JSON calls, safe DOM building.
   Plain JavaScript, no build step, no library. Text from the server is only ever set as text. */
"use strict";

const Centre = (() => {
  const match = location.pathname.match(/^\/public\/townships\/([^/]+)\/pages\//);
  const code = match ? decodeURIComponent(match[1]) : "";
  const base = "/public/townships/" + encodeURIComponent(code);

  async function call(method, path, data) {
    const options = { method, headers: { Accept: "application/json" } };
    if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
    let response;
    try {
      response = await fetch(base + path, options);
    } catch (err) {
      return { status: 0, body: null };
    }
    let body = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.startsWith("application/json")) {
      body = await response.json();
    }
    return { status: response.status, body };
  }

  /** el("p", {class: "x"}, "text", child) — attributes and text, never HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function pct(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
  }

  function num(value) {
    return value === null || value === undefined ? "—" : String(value);
  }

  // the township's time zone (DOMAIN "Time"), from the notices' answer; no zone of our own
  let zone;

  function localTime(iso) {
    if (!iso) return "—";
    const moment = new Date(iso);
    if (isNaN(moment)) return iso;
    return moment.toLocaleString("zh-CN", { hour12: false, timeZone: zone });
  }

  function setText(selector, value) {
    for (const node of document.querySelectorAll(selector)) node.textContent = value;
  }

  function say(region, kind, message) {
    region.hidden = false;
    region.className = "notice " + kind;
    region.textContent = message;
  }

  /** The township's name and what it publishes (promises, channels), once per page. */
  let noticesPromise = null;
  function notices() {
    noticesPromise = noticesPromise || call("GET", "/notices").then((answer) => {
      if (answer.status === 200 && answer.body && answer.body.township) zone = answer.body.township.timezone;
      return answer;
    });
    return noticesPromise;
  }

  async function fillTownship() {
    const { status, body } = await notices();
    if (status === 200 && body && body.township) {
      setText("[data-township-name]", body.township.name);
      document.title = document.title.replace("便民服务中心", body.township.name + "便民服务中心");
      const footer = document.getElementById("channels-footer");
      if (footer && body.channels) footer.textContent = "投诉渠道：" + body.channels.complaint;
    }
    return body;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const page = document.body.dataset.page;
    for (const link of document.querySelectorAll("nav.site a")) {
      if (link.getAttribute("href") === page) link.setAttribute("aria-current", "page");
    }
    fillTownship();
  });

  const CATEGORY_LABELS = {
    attitude: "服务态度", argument: "与群众争吵", delay: "拖延办理", fee: "乱收费",
    bribery: "吃拿卡要", discipline: "工作纪律", other: "其他",
  };
  const KIND_LABELS = {
    immediate: "即办件", promised: "承诺件", supplement: "补办件", joint: "联办件", escalated: "上报件",
    returned: "退回件",
  };

  return { code, base, call, el, pct, num, localTime, setText, say, notices, fillTownship,
           CATEGORY_LABELS, KIND_LABELS };
})();
