/* 在线投诉 (P1 online channel): the complainant's identity goes to the complaint officer only (P2). */
"use strict";

const FIELD_IDS = { name: "name", phone: "phone", address: "address", target_window_id: "window", content: "content" };

function showError(field, message) {
  const node = document.getElementById(field + "-error");
  const input = document.getElementById(FIELD_IDS[field]);
  if (!node) return false;
  node.hidden = !message;
  node.textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return Boolean(message);
}

document.addEventListener("DOMContentLoaded", async () => {
  const { el } = Centre;
  const category = document.getElementById("category");
  for (const [value, label] of Object.entries(Centre.CATEGORY_LABELS)) {
    category.append(el("option", { value, selected: value === "other" }, label));
  }
  Centre.notices().then(({ status, body }) => {
    if (status === 200 && body) document.getElementById("complaint-channel").textContent = body.channels.complaint;
  });
  const windows = await Centre.call("GET", "/statistics/today");
  const select = document.getElementById("window");
  if (windows.status === 200) {
    for (const w of windows.body.windows) {
      if (w.number !== null) select.append(el("option", { value: w.window_id }, w.number + " 号窗口 " + (w.name || "")));
    }
  }

  const form = document.getElementById("complaint-form");
  const message = document.getElementById("complaint-message");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (id) => document.getElementById(id).value.trim();
    let bad = false;
    bad = showError("name", value("name") ? "" : "请填写您的姓名") || bad;
    bad = showError("phone", /^\+?[0-9-]{6,20}$/.test(value("phone")) ? "" : "请填写正确的联系电话") || bad;
    bad = showError("target_window_id", value("window") ? "" : "请选择投诉的窗口") || bad;
    bad = showError("content", value("content") ? "" : "请填写投诉内容") || bad;
    showError("address", "");
    if (bad) {
      Centre.say(message, "error", "请按提示补充后再提交。");
      return;
    }
    const complainant = { name: value("name"), phone: value("phone") };
    if (value("address")) complainant.address = value("address");
    const payload = { complainant, target_window_id: value("window"), category: value("category"), content: value("content") };
    const button = document.getElementById("complaint-button");
    button.disabled = true;
    const { status, body } = await Centre.call("POST", "/complaints", payload);
    button.disabled = false;
    if (status === 201) {
      form.hidden = true;
      Centre.say(message, "ok", `投诉已收到，编号 ${body.number}。中心将在 ${body.due_on} 前答复您，请保留此编号。`);
    } else if (status === 429) {
      Centre.say(message, "wait", "提交次数较多，请一小时后再试，或拨打投诉电话、到中心管理办公室反映。");
    } else if (status === 422 && body && body.details) {
      for (const [field, problems] of Object.entries(body.details)) {
        const name = field === "complainant" && typeof problems === "object" ? null : field;
        if (name) showError(name, "请检查此项");
        else for (const sub of Object.keys(problems)) showError(sub, "请检查此项");
      }
      Centre.say(message, "error", "请按提示检查后再提交。");
    } else {
      Centre.say(message, "error", "系统暂时繁忙，请稍后再试，或到中心管理办公室反映。");
    }
  });
});
