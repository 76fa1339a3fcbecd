// The upgrade board's drag and drop: a card dropped on another column posts that card's own move form (its CSRF
// token included) asking for JSON, then moves the card there and says so; a refused move leaves the card where it
// was and shows the server's message. Without this script, each card's Move form does the same by a page load.
(() => {
  "use strict";
  const board = document.querySelector("[data-upgrade-board]");
  if (!board) return;
  const status = document.getElementById("board-status");
  const error = document.getElementById("board-error");
  let dragged = null;

  function say(element, text) {
    status.hidden = true;
    error.hidden = true;
    element.textContent = text;
    element.hidden = false;
  }

  function recount() {
    for (const column of board.querySelectorAll("[data-column]")) {
      const cards = column.querySelectorAll("[data-plan]").length;
      column.querySelector("[data-count]").textContent = String(cards);
      column.querySelector(".plan-empty").hidden = cards > 0;
    }
  }

  async function move(card, column) {
    const target = column.dataset.column;
    if (card.dataset.status === target) return;
    const form = card.querySelector("form.plan-move");
    const body = new FormData(form);
    body.set("status", target);
    let answer;
    try {
      const response = await fetch(form.action, {
        method: "POST", body, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": body.get("csrf_token") },
      });
      answer = { ok: response.ok, data: await response.json() };
    } catch {
      say(error, board.dataset.failed);
      return;
    }
    if (!answer.ok) {
      say(error, answer.data.message || board.dataset.failed);
      return;
    }
    column.querySelector(".plan-cards").prepend(card);
    card.dataset.status = answer.data.status;
    form.querySelector("select").value = answer.data.status;
    recount();
    say(status, answer.data.message);
  }

  board.addEventListener("dragstart", (event) => {
    dragged = event.target.closest?.("[data-plan]") || null;
    if (!dragged) return;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.plan);
    dragged.classList.add("plan-dragging");
  });
  board.addEventListener("dragend", () => {
    for (const card of board.querySelectorAll(".plan-dragging")) card.classList.remove("plan-dragging");
    dragged = null;
    for (const column of board.querySelectorAll(".plan-drop")) column.classList.remove("plan-drop");
  });
  board.addEventListener("dragover", (event) => {
    const column = event.target.closest?.("[data-column]");
    if (!dragged || !column) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    for (const other of board.querySelectorAll(".plan-drop")) if (other !== column) other.classList.remove("plan-drop");
    column.classList.add("plan-drop");
  });
  board.addEventListener("drop", (event) => {
    const column = event.target.closest?.("[data-column]");
    if (!dragged || !column) return;
    event.preventDefault();
    column.classList.remove("plan-drop");
    const card = dragged;
    dragged = null;
    move(card, column);
  });
})();
