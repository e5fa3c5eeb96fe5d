// A conversation: fresh client ids, reconnects that ask for what was missed, read receipts.
(function () {
  "use strict";
  var chat = document.getElementById("chat");
  if (!chat) return;
  var messages = document.getElementById("messages");
  var readSent = 0;

  function maxSeq(selector) {
    var max = 0;
    messages.querySelectorAll(selector).forEach(function (el) { max = Math.max(max, Number(el.dataset.seq) || 0); });
    return max;
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function scrollDown() { messages.scrollTop = messages.scrollHeight; }
  // A separator wherever the day changes, live and older messages included (the server renders
  // the first page's); and my newest message shows its status in words.
  function tidy() {
    var previous = null, seen = {};
    messages.querySelectorAll(".bubble[id]").forEach(function (bubble) {  // a resend's echo: shown once
      if (seen[bubble.id]) bubble.remove(); else seen[bubble.id] = true;
    });
    confirmPending();
    messages.querySelectorAll(".day-separator").forEach(function (el) { el.remove(); });
    messages.querySelectorAll(".bubble[data-day]").forEach(function (bubble) {
      if (bubble.dataset.day !== previous) {
        var separator = document.createElement("div");
        separator.className = "day-separator";
        separator.setAttribute("role", "separator");
        separator.dataset.day = bubble.dataset.day;
        var label = document.createElement("span");
        label.textContent = bubble.dataset.dayLabel;
        separator.appendChild(label);
        bubble.before(separator);
        previous = bubble.dataset.day;
      }
    });
    var mine = messages.querySelectorAll(".bubble.mine");
    messages.querySelectorAll(".latest-mine").forEach(function (el) { el.classList.remove("latest-mine"); });
    if (mine.length) mine[mine.length - 1].classList.add("latest-mine");
  }
  function markRead() {
    var seq = maxSeq(".theirs[data-seq]");
    if (document.visibilityState !== "visible" || seq <= readSent) return;
    readSent = seq;
    htmx.trigger("#read-form", "submit");
  }

  // The extension reuses its first URL when it reconnects: ask for what came after the newest
  // message on the page instead, so a reconnect shows no gap and no duplicate.
  var createSocket = htmx.createWebSocket;
  htmx.createWebSocket = function (url) {
    var target = new URL(url);
    if (target.pathname.indexOf("/ws/conversations/") === 0) target.searchParams.set("after", maxSeq("[data-seq]"));
    return createSocket ? createSocket(target.href) : new WebSocket(target.href, []);
  };
  document.addEventListener("htmx:wsConfigSend", function (e) {
    var params = e.detail.parameters;
    if (params.type === "message.delete" && !window.confirm(chat.dataset.textConfirmDelete)) {
      e.preventDefault();  // deleting for everyone cannot be undone: ask first
      return;
    }
    // One id per message: if the extension has to resend it after a reconnect, it lands once.
    if (params.type === "message.send" && !params.client_id) params.client_id = newId();
    if (params.type === "message.read") params.up_to_seq = maxSeq(".theirs[data-seq]");
  });
  // Pending messages: shown at once, kept (per conversation, across reloads) until the server's
  // copy arrives with the same client id, and sent again with that id whenever the socket
  // opens — after a network drop or a server restart. The server stores an id once.
  var pendingKey = "bb:pending:" + chat.dataset.conversationId;
  function pending() {
    try { return JSON.parse(localStorage.getItem(pendingKey)) || []; } catch (err) { return []; }
  }
  function savePending(list) {
    try { localStorage.setItem(pendingKey, JSON.stringify(list)); } catch (err) { /* private mode: memory only */ }
  }
  function showPending(item) {
    if (messages.querySelector('[data-client-id="' + CSS.escape(item.client_id) + '"]')) return;
    var bubble = document.createElement("article");
    bubble.className = "bubble mine pending";
    bubble.dataset.clientId = item.client_id;
    bubble.dataset.pending = "true";
    var content = document.createElement("p");
    content.className = "content";
    content.textContent = item.content;
    var footer = document.createElement("footer");
    var state = document.createElement("span");
    state.className = "receipt receipt-pending";
    state.textContent = "🕓 " + chat.dataset.textSending;
    footer.appendChild(state);
    bubble.append(content, footer);
    messages.appendChild(bubble);
  }
  function confirmPending() {
    var left = pending().filter(function (item) {
      var real = messages.querySelector('.bubble[data-seq][data-client-id="' + CSS.escape(item.client_id) + '"]');
      var shown = messages.querySelector('.bubble[data-pending][data-client-id="' + CSS.escape(item.client_id) + '"]');
      if (real && shown) shown.remove();
      return !real;
    });
    savePending(left);
  }
  document.addEventListener("htmx:wsConfigSend", function (e) {
    var params = e.detail.parameters;
    if (params.type !== "message.send") return;
    var item = { client_id: params.client_id, content: params.content };
    savePending(pending().concat([item]));
    showPending(item);
    if (e.target && e.target.id === "composer") e.target.reset();  // its values are already taken
    scrollDown();
  });
  document.addEventListener("htmx:wsOpen", function (e) {
    var queued = (e.detail.socketWrapper.queue || []).map(function (q) { return q.message; }).join("\n");
    pending().forEach(function (item) {
      if (queued.indexOf(item.client_id) !== -1) return;  // the extension sends it itself
      e.detail.socketWrapper.send(JSON.stringify({ type: "message.send", client_id: item.client_id, content: item.content }));
    });
  });
  // A group: "read by N" under my messages, recounted from the members' read positions (the
  // page's, then each one the socket reports).
  var readPositions = {};
  try { readPositions = JSON.parse(chat.dataset.readPositions || "{}"); } catch (err) { readPositions = {}; }
  function recountReads() {
    var box = document.getElementById("read-positions");
    if (box) box.querySelectorAll("i[data-user-id]").forEach(function (el) {
      readPositions[el.dataset.userId] = Math.max(readPositions[el.dataset.userId] || 0, Number(el.dataset.seq));
      el.remove();
    });
    messages.querySelectorAll(".read-by").forEach(function (el) {
      var seq = Number(el.dataset.seq), n = 0;
      Object.keys(readPositions).forEach(function (uid) { if (readPositions[uid] >= seq) n += 1; });
      var label = el.querySelector(".read-by-count");
      if (Number(label.dataset.count) === n && label.textContent) return;
      label.dataset.count = n;
      label.textContent = n ? chat.dataset.textReadBy.replace("0", n) : chat.dataset.textSent;
    });
  }
  // A meeting's room: the composer opens when it goes live and goes away when it ends; a
  // "… left the room" notice stays a few seconds.
  function followPhase() {
    var state = document.getElementById("meeting-state"), composer = document.getElementById("composer");
    if (!state || !composer) return;
    var phase = state.dataset.phase;
    composer.querySelectorAll("textarea, button").forEach(function (el) { el.disabled = phase !== "live"; });
    if (phase === "ended" || phase === "cancelled") {
      document.querySelectorAll(".composer-bar").forEach(function (el) { el.hidden = true; });
    }
  }
  function expireNotices() {
    document.querySelectorAll(".room-notice:not([data-expiring])").forEach(function (el) {
      el.dataset.expiring = "true";
      setTimeout(function () { el.remove(); }, 6000);
    });
  }
  document.addEventListener("htmx:wsAfterMessage", function () {
    tidy(); scrollDown(); markRead(); recountReads(); followPhase(); expireNotices();
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.classList.contains("older")) tidy();  // older messages came in above
  });
  document.addEventListener("htmx:wsOpen", markRead);
  document.addEventListener("visibilitychange", markRead);
  // Uploads: a fresh client id each, a progress bar, and an empty form afterwards.
  var progress = document.getElementById("upload-progress");
  document.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.elt.id === "upload-form") e.detail.parameters.client_id = newId();
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    if (!e.detail.total) return;
    progress.hidden = false;
    progress.value = Math.round(100 * e.detail.loaded / e.detail.total);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.elt.id !== "upload-form") return;
    progress.hidden = true;
    if (e.detail.successful) e.detail.elt.reset();
  });
  // The chosen file waits by name for "Send file" (the picker itself is opened by the composer's clip).
  var uploadFile = document.getElementById("upload-file"), uploadName = document.getElementById("upload-name");
  if (uploadFile) {
    uploadFile.addEventListener("change", function () {
      uploadName.textContent = uploadFile.files.length ? uploadFile.files[0].name : "";
    });
    uploadFile.form.addEventListener("reset", function () { uploadName.textContent = ""; });
  }
  // Enter sends, Shift+Enter starts a new line.
  var composerContent = document.getElementById("composer-content");  // absent once the conversation is closed
  if (composerContent) composerContent.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      htmx.trigger("#composer", "submit");
    }
  });
  // No "new message" toast for the conversation that is open.
  document.body.addEventListener("htmx:sseBeforeMessage", function (e) {
    var msg = e.detail;
    if (msg && msg.type === "conversation.updated" && String(msg.data).indexOf(chat.dataset.conversationId) !== -1) {
      e.preventDefault();
    }
  });
  // Blocked by the other person (close code 4403), gone from the group (4410), or a meeting
  // room that is not open (4425):
  // the extension does not reconnect; say so
  // and put the composer away.
  document.addEventListener("htmx:wsClose", function (e) {
    var closed = e.detail && e.detail.event;
    if (!closed || [4403, 4410, 4425].indexOf(closed.code) === -1) return;
    document.getElementById("chat-closed").hidden = false;
    ["composer", "upload-form"].forEach(function (id) {
      var form = document.getElementById(id);
      if (form) form.hidden = true;
    });
  });
  pending().forEach(showPending);
  recountReads();
  followPhase();
  tidy();
  scrollDown();
})();
