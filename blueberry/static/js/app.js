// Small glue htmx cannot do by itself: failure toasts, the live stream's status and cursor.
(function () {
  "use strict";
  var lang = document.documentElement.lang;
  var texts = {
    en: { offline: "Can't reach Blueberry. Check your connection.", failed: "Something went wrong. Please try again.", reconnecting: "Reconnecting…" },
    ko: { offline: "Blueberry에 연결할 수 없어요. 인터넷 연결을 확인해 주세요.", failed: "문제가 생겼어요. 다시 시도해 주세요.", reconnecting: "다시 연결하는 중…" }
  }[lang === "ko" ? "ko" : "en"];

  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast toast-error";
    el.setAttribute("role", "alert");
    el.textContent = message;
    box.appendChild(el);
  }
  function expireToasts() {
    document.querySelectorAll(".toast").forEach(function (el) {
      if (!el.dataset.shownAt) el.dataset.shownAt = Date.now();
      else if (Date.now() - el.dataset.shownAt > 8000) el.remove();
    });
  }
  function liveStatus(text) {
    var el = document.getElementById("live-status");
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
  }
  document.addEventListener("htmx:sendError", function () { toast(texts.offline); });
  document.addEventListener("htmx:responseError", function () { toast(texts.failed); });

  // The live stream: show "reconnecting" while it is down. When the extension has to open a
  // new EventSource it cannot send Last-Event-ID, so the URL carries the last id seen.
  document.addEventListener("htmx:sseError", function () { liveStatus(texts.reconnecting); });
  document.addEventListener("htmx:sseOpen", function () {
    var el = document.getElementById("live-status");
    if (el && !el.dataset.sessionEnded) liveStatus("");
  });
  document.addEventListener("htmx:sseMessage", function (evt) {
    var message = evt.detail, live = document.getElementById("live");
    if (message && message.lastEventId && live) {
      var url = new URL(live.getAttribute("sse-connect"), location.href);
      url.searchParams.set("last_event_id", message.lastEventId);
      live.setAttribute("sse-connect", url.pathname + url.search);
    }
    if (message && message.type === "session.ended") {  // signed out elsewhere: show the login page
      setTimeout(function () { location.reload(); }, 1500);
    }
  });
  // Clocks: [data-elapsed-since] counts up and [data-countdown-to] down (epoch ms), as m:ss.
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function tickClocks() {
    document.querySelectorAll("[data-elapsed-since]").forEach(function (el) {
      el.textContent = clock(Date.now() - Number(el.dataset.elapsedSince));
    });
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      el.textContent = clock(Number(el.dataset.countdownTo) - Date.now());
    });
  }
  // A live fragment that says "go there" (a match opened its room): follow it.
  document.addEventListener("htmx:load", function (evt) {
    var target = evt.detail.elt.querySelector && evt.detail.elt.querySelector("[data-navigate]");
    if (target) window.location.assign(target.href);
    tickClocks();
  });
  // A book cover that fails to load gives way to its drawn placeholder (no inline onerror: the CSP).
  document.addEventListener("error", function (evt) {
    var img = evt.target;
    if (!img.classList || !img.classList.contains("cover-image")) return;
    img.hidden = true;
    if (img.nextElementSibling) img.nextElementSibling.hidden = false;
  }, true);
  // A row of tabs wider than a phone scrolls sideways: start with the current tab in view.
  document.querySelectorAll(".news-tabs [aria-current=page]").forEach(function (tab) {
    var row = tab.parentElement;
    row.scrollLeft = tab.offsetLeft - row.offsetLeft - (row.clientWidth - tab.offsetWidth) / 2;
  });
  setInterval(function () { expireToasts(); tickClocks(); }, 1000);
  tickClocks();
})();
