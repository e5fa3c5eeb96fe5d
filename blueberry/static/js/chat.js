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
    // One id per message: if the extension has to resend it after a reconnect, it lands once.
    if (params.type === "message.send" && !params.client_id) params.client_id = newId();
    if (params.type === "message.read") params.up_to_seq = maxSeq(".theirs[data-seq]");
  });
  document.addEventListener("htmx:wsAfterSend", function (e) {
    if (e.target && e.target.id === "composer") e.target.reset();
  });
  document.addEventListener("htmx:wsAfterMessage", function () { scrollDown(); markRead(); });
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
  // Blocked by the other person (close code 4403): the extension does not reconnect; say so
  // and put the composer away.
  document.addEventListener("htmx:wsClose", function (e) {
    var closed = e.detail && e.detail.event;
    if (!closed || closed.code !== 4403) return;
    document.getElementById("chat-closed").hidden = false;
    ["composer", "upload-form"].forEach(function (id) {
      var form = document.getElementById(id);
      if (form) form.hidden = true;
    });
  });
  scrollDown();
})();
