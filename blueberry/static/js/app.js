// Small glue htmx cannot do by itself: tell the user when a request fails, drop old toasts.
(function () {
  "use strict";
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
      else if (Date.now() - el.dataset.shownAt > 6000) el.remove();
    });
  }
  var lang = document.documentElement.lang;
  var texts = {
    en: { offline: "Can't reach Blueberry. Check your connection.", failed: "Something went wrong. Please try again." },
    ko: { offline: "Blueberry에 연결할 수 없어요. 인터넷 연결을 확인해 주세요.", failed: "문제가 생겼어요. 다시 시도해 주세요." }
  }[lang === "ko" ? "ko" : "en"];
  document.addEventListener("htmx:sendError", function () { toast(texts.offline); });
  document.addEventListener("htmx:responseError", function () { toast(texts.failed); });
  setInterval(expireToasts, 1000);
})();
