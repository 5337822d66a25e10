/* 办件查询 (I4), 好差评 (C9) and 申请复核 (C10): receipt number + query password, no login. */
"use strict";

const MESSAGES = {
  noMatch: "受理编号或查询密码不正确，请核对受理通知单后重试。",
  limited: "查询次数较多，为保护您的办件信息，请稍后（约 15 分钟）再试。如需帮助，请到大厅服务台咨询。",
  busy: "系统暂时繁忙，请稍后再试，或到大厅服务台咨询。",
};

let current = null; // {number, password} of the last successful query (kept in memory only)

function fieldError(id, message) {
  const node = document.getElementById(id + "-error");
  const input = document.getElementById(id);
  node.hidden = !message;
  node.textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

async function showResult(body) {
  const { el, setText } = Centre;
  await Centre.notices(); // the township's time zone, for the times below
  setText("#status-label", body.status_label || body.status);
  setText("#r-number", body.receipt_no);
  setText("#r-applicant", body.applicant_name);
  setText("#r-item", body.item_code);
  setText("#r-kind", Centre.KIND_LABELS[body.kind] || body.kind || "—");
  setText("#r-accepted", Centre.localTime(body.accepted_at));
  setText("#r-due", body.due_date ? body.due_date + (body.due_provisional ? "（暂定）" : "") : "—");
  const outstanding = document.getElementById("outstanding");
  const list = document.getElementById("outstanding-list");
  list.replaceChildren(...(body.outstanding_materials || []).map((m) => el("li", {}, m)));
  outstanding.hidden = !(body.outstanding_materials || []).length;
  const timeline = document.getElementById("timeline");
  const entries = body.timeline && body.timeline.length ? body.timeline
    : [{ at: body.accepted_at || body.updated_at, label: body.status_label || body.status }];
  timeline.replaceChildren(...entries.map((e) =>
    el("li", { "data-status-code": e.status_code }, el("time", { datetime: e.at }, Centre.localTime(e.at)), e.label)));
  const result = document.getElementById("result");
  result.hidden = false;
  result.focus();
  const rating = document.getElementById("rating");
  const ratingMessage = document.getElementById("rating-message");
  rating.hidden = body.status !== "delivered";
  document.getElementById("rating-form").hidden = Boolean(body.rated);
  if (body.rated) Centre.say(ratingMessage, "ok", "您已评价过本次服务，感谢您的参与。");
  else ratingMessage.hidden = true;
  showReview(body);
  Centre.call("GET", "/catalogue/" + encodeURIComponent(body.item_code)).then(({ status, body: item }) => {
    if (status === 200 && item) setText("#r-item", item.name + "（" + item.code + "）");
  });
}

const REVIEW_OUTCOMES = { upheld: "维持原决定", overturned: "撤销原决定" };

function showReview(body) {
  const { setText } = Centre;
  const review = body.review;
  document.getElementById("review").hidden = !(review || body.reviewable);
  document.getElementById("review-form").hidden = !body.reviewable || Boolean(review);
  document.getElementById("review-facts").hidden = !review;
  document.getElementById("review-message").hidden = true;
  if (!review) return;
  setText("#rv-state", review.state === "decided" ? "已答复" : "复核中");
  setText("#rv-due", review.due_date);
  setText("#rv-outcome", review.outcome ? REVIEW_OUTCOMES[review.outcome] || review.outcome : "—");
  setText("#rv-answer", review.answer || "—");
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("query-form");
  const message = document.getElementById("query-message");
  const button = document.getElementById("query-button");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = document.getElementById("receipt-no").value.trim();
    const password = document.getElementById("password").value.trim();
    fieldError("receipt-no", number ? "" : "请输入受理编号");
    fieldError("password", password ? "" : "请输入查询密码");
    if (!number || !password) return;
    message.hidden = true;
    button.disabled = true;
    const { status, body } = await Centre.call("POST", "/receipts/" + encodeURIComponent(number) + "/timeline",
      { password });
    button.disabled = false;
    if (status === 200) {
      current = { number, password };
      await showResult(body);
      return;
    }
    document.getElementById("result").hidden = true;
    document.getElementById("rating").hidden = true;
    document.getElementById("review").hidden = true;
    if (status === 404) Centre.say(message, "error", MESSAGES.noMatch);
    else if (status === 429) Centre.say(message, "wait", MESSAGES.limited);
    else if (status === 422) Centre.say(message, "error", "请检查输入的受理编号和查询密码。");
    else Centre.say(message, "error", MESSAGES.busy);
  });

  const ratingForm = document.getElementById("rating-form");
  const ratingMessage = document.getElementById("rating-message");
  ratingForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = ratingForm.querySelector("input[name=rating]:checked");
    if (!chosen) {
      Centre.say(ratingMessage, "error", "请选择一个评价等级。");
      return;
    }
    if (!current) return;
    const payload = { password: current.password, rating: Number(chosen.value) };
    const comment = document.getElementById("comment").value.trim();
    if (comment) payload.comment = comment;
    const button = document.getElementById("rating-button");
    button.disabled = true;
    const { status } = await Centre.call("POST", "/receipts/" + encodeURIComponent(current.number) + "/rating", payload);
    button.disabled = false;
    if (status === 201) {
      ratingForm.hidden = true;
      Centre.say(ratingMessage, "ok", payload.rating <= 2
        ? "感谢您的评价。很抱歉让您不满意，中心将在 15 个工作日内回访并整改。"
        : "感谢您的评价！");
    } else if (status === 409) {
      ratingForm.hidden = true;
      Centre.say(ratingMessage, "ok", "您已评价过本次服务，感谢您的参与。");
    } else if (status === 429) {
      Centre.say(ratingMessage, "wait", MESSAGES.limited);
    } else if (status === 404) {
      Centre.say(ratingMessage, "error", MESSAGES.noMatch);
    } else {
      Centre.say(ratingMessage, "error", MESSAGES.busy);
    }
  });

  const reviewForm = document.getElementById("review-form");
  const reviewMessage = document.getElementById("review-message");
  reviewForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = document.getElementById("review-reason").value.trim();
    fieldError("review-reason", reason ? "" : "请填写复核理由");
    if (!reason || !current) return;
    const button = document.getElementById("review-button");
    button.disabled = true;
    const { status, body } = await Centre.call("POST", "/receipts/" + encodeURIComponent(current.number) + "/review",
      { password: current.password, reason });
    button.disabled = false;
    if (status === 201) {
      reviewForm.hidden = true;
      showReview({ review: body, reviewable: false });
      Centre.say(reviewMessage, "ok", "已收到您的复核申请，将于 " + body.due_date + " 前答复。");
    } else if (status === 409) {
      reviewForm.hidden = true;
      Centre.say(reviewMessage, "ok", "本件已申请过复核，或不属于可申请复核的情形。");
    } else if (status === 422) {
      fieldError("review-reason", "请检查复核理由（最多 2000 字）");
    } else if (status === 429) {
      Centre.say(reviewMessage, "wait", MESSAGES.limited);
    } else if (status === 404) {
      Centre.say(reviewMessage, "error", MESSAGES.noMatch);
    } else {
      Centre.say(reviewMessage, "error", MESSAGES.busy);
    }
  });
});
