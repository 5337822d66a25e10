/* 大厅显示屏 (T1): today's leader on duty (P5), on duty, today's figures, this month's on-time rate and rankings, the red-flag
   window, promises and channels. Refreshes itself (every 60 s; ?refresh=N seconds, at least 5).
   Each panel is filled from its own route, so one service being away blanks only its panel. */
"use strict";

const params = new URLSearchParams(location.search);
const REFRESH_SECONDS = Math.max(5, Number(params.get("refresh")) || 60);
const FLAG_EVERY = 10; // the red-flag window changes once a quarter: ask every 10th refresh
let rounds = 0;
let zone; // the township's, from the figures' answer (DOMAIN "Time")

function windowLabel(w) {
  return (w.number === null ? "" : w.number + " 号 ") + (w.name || "");
}

function fillToday(body) {
  const t = body.township;
  Centre.setText("#today-received", Centre.num(t.received));
  Centre.setText("#today-completed", Centre.num(t.completed));
  Centre.setText("#today-on-time", Centre.num(t.on_time));
}

function fillMonth(body) {
  const t = body.township;
  Centre.setText("#month-label", body.month);
  Centre.setText("#month-on-time-rate", Centre.pct(t.on_time_rate));
  Centre.setText("#month-satisfaction", Centre.pct(t.satisfaction));
  Centre.setText("#month-received", Centre.num(t.received));
  Centre.setText("#month-completed", Centre.num(t.completed));
  Centre.setText("#month-avg-days", Centre.num(t.avg_working_days));
  const { el } = Centre;
  const rows = body.windows.filter((w) => w.number !== null).map((w) => el("tr",
    { "data-window-number": w.number, class: w.rank === 1 ? "first" : null },
    el("td", { "data-field": "rank" }, w.rank === null ? "—" : w.rank),
    el("td", {}, windowLabel(w)),
    el("td", { class: "num", "data-field": "completed" }, w.completed),
    el("td", { class: "num", "data-field": "on_time_rate" }, Centre.pct(w.on_time_rate)),
    el("td", { class: "num", "data-field": "satisfaction" }, Centre.pct(w.satisfaction)),
    el("td", { class: "num", "data-field": "complaints_verified" }, w.complaints_verified)));
  document.getElementById("rankings-body").replaceChildren(...rows);
}

function fillWindows(today, onDuty) {
  const { el } = Centre;
  const people = new Map();
  for (const p of onDuty || []) {
    if (!people.has(p.window)) people.set(p.window, []);
    people.get(p.window).push(p.name + (p.badge_no ? "（" + p.badge_no + "）" : ""));
  }
  const rows = today.windows.filter((w) => w.number !== null).map((w) => el("tr", { "data-window-number": w.number },
    el("td", {}, windowLabel(w)),
    el("td", { "data-field": "on_duty" }, (people.get(w.number) || ["—"]).join("、")),
    el("td", { class: "num", "data-field": "received" }, w.received),
    el("td", { class: "num", "data-field": "completed" }, w.completed)));
  document.getElementById("windows-body").replaceChildren(...rows);
}

function fillFlag(body) {
  const names = body.red_flag_windows.map(windowLabel);
  Centre.setText("#flag-name", names.length ? names.join("、") : "本季度暂无");
  Centre.setText("#flag-quarter", body.quarter.replace("Q", " 年第 ") + " 季度评选");
}

function fillNotices(body) {
  const { el } = Centre;
  document.getElementById("promises-list").replaceChildren(...body.promises.map((p) => el("li", {}, p)));
  const c = body.channels;
  document.getElementById("channels-list").replaceChildren(
    el("li", {}, "查询：" + c.query), el("li", {}, "评价：" + c.rating), el("li", {}, "投诉：" + c.complaint));
}

function fillLeader(body) {
  // P5: today's township leader on duty at the centre (receives visitors); none rostered → 未安排
  Centre.setText("#leader-on-duty", body.leader ? body.leader.name : "未安排");
}

function failed(selector) {
  Centre.setText(selector, "暂时无法读取");
}

async function refresh() {
  const flagRound = rounds % FLAG_EVERY === 0;
  rounds += 1;
  const [today, month, duty, notices, flag, leader] = await Promise.all([
    Centre.call("GET", "/statistics/today"),
    Centre.call("GET", "/statistics"),
    Centre.call("GET", "/staff-on-duty"),
    rounds === 1 ? Centre.notices() : Promise.resolve(null),
    flagRound ? Centre.call("GET", "/red-flag") : Promise.resolve(null),
    Centre.call("GET", "/leader-on-duty"),
  ]);
  if (leader.status === 200) fillLeader(leader.body);
  else failed("#leader-on-duty");
  if (today.status === 200) {
    zone = today.body.timezone || zone;
    fillToday(today.body);
    fillWindows(today.body, duty.status === 200 ? duty.body : null);
  } else {
    failed("#today-received");
  }
  if (month.status === 200) fillMonth(month.body);
  else failed("#month-on-time-rate");
  if (notices && notices.status === 200) fillNotices(notices.body);
  if (flag) {
    if (flag.status === 200) fillFlag(flag.body);
    else failed("#flag-name");
  }
  Centre.setText("#updated", "数据更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false, timeZone: zone }));
  document.body.dataset.refreshed = String(rounds);
}

function tick() {
  Centre.setText("#clock", new Date().toLocaleString("zh-CN", {
    hour12: false, timeZone: zone, year: "numeric", month: "long", day: "numeric", weekday: "long",
    hour: "2-digit", minute: "2-digit", second: "2-digit" }));
}

document.addEventListener("DOMContentLoaded", () => {
  tick();
  setInterval(tick, 1000);
  refresh();
  setInterval(refresh, REFRESH_SECONDS * 1000);
});
