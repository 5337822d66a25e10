/* 办事指南 (I1): the published catalogue, searched in the page. */
"use strict";

function feeText(item) {
  if (!item.fee_cents) return "免费";
  return (item.fee_cents / 100).toFixed(2) + " 元";
}

function renderItem(item) {
  const { el } = Centre;
  const materials = el("ul", {});
  for (const m of item.materials || []) {
    materials.append(el("li", {}, m.name,
      el("span", { class: "tag " + (m.main ? "main" : "attach") }, m.main ? "主件" : "附件")));
  }
  const promise = item.default_kind === "immediate" ? "即办，当场办结" : item.promised_days + " 个工作日";
  const rows = [
    ["事项编码", item.code],
    ["办件类型", Centre.KIND_LABELS[item.default_kind] || item.default_kind],
    ["承诺时限", promise],
    ["收费标准", feeText(item)],
    ["收费依据", item.fee_basis || (item.fee_cents ? "—" : "不收费")],
    ["办理依据", item.legal_basis || "—"],
    ["办理流程", item.procedure || "—"],
  ];
  if ((item.departments || []).length) rows.push(["联办部门", item.departments.join("、")]);
  if (item.tacit_approval) rows.push(["超时默许", "逾期未作决定的，视为同意"]);
  const list = el("dl", {});
  for (const [term, value] of rows) list.append(el("dt", {}, term), el("dd", {}, value));
  list.append(el("dt", {}, "所需材料"), el("dd", {}, materials));
  const details = el("details", { class: "item card", "data-code": item.code },
    el("summary", {}, item.name + " · " + promise), list);
  details.dataset.search = [item.code, item.name, item.legal_basis, item.procedure,
    ...(item.materials || []).map((m) => m.name)].join(" ").toLowerCase();
  return details;
}

document.addEventListener("DOMContentLoaded", async () => {
  const container = document.getElementById("items");
  const count = document.getElementById("count");
  const status = document.getElementById("status");
  const input = document.getElementById("q");
  const result = await Centre.call("GET", "/catalogue");
  if (result.status !== 200 || !Array.isArray(result.body)) {
    Centre.say(status, "error", "办事指南暂时无法读取，请稍后再试，或到大厅服务台咨询。");
    return;
  }
  const nodes = result.body.map(renderItem);
  container.append(...nodes);
  function filter() {
    const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const node of nodes) {
      const hit = words.every((w) => node.dataset.search.includes(w));
      node.hidden = !hit;
      if (hit) shown += 1;
    }
    count.textContent = words.length ? `找到 ${shown} 个事项` : `共 ${nodes.length} 个事项`;
  }
  input.addEventListener("input", filter);
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    filter();
  });
  filter();
});
