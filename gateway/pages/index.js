"use strict";
document.addEventListener("DOMContentLoaded", async () => {
  const { status, body } = await Centre.notices();
  const list = document.getElementById("promises");
  if (status === 200 && body) {
    for (const promise of body.promises) list.append(Centre.el("li", {}, promise));
  }
});
