// The voice room: microphone, one RTCPeerConnection, and signaling over /ws/rooms/<id>.
// The member with the smaller user id (role "caller") makes the offer whenever both are in
// the room; a reconnect starts a fresh connection the same way. Without a microphone the page
// still connects (mic=off) so the partner learns why nobody comes. When the room ends, the
// server-rendered end screen replaces the call.
(function () {
  "use strict";
  var root = document.getElementById("room");
  if (!root || root.dataset.open !== "true") return;
  var text = root.dataset, caller = text.role === "caller";
  var iceServers = JSON.parse(text.ice || "[]");
  var stateEl = document.getElementById("call-state"), timerEl = document.getElementById("call-timer");
  var audio = document.getElementById("remote-audio"), muteBtn = document.getElementById("mute");
  var pc = null, ws = null, stream = null, ended = false, retries = 0, signals = Promise.resolve(), callNumber = 0;
  var meters = [];

  function show(message, connection) {
    stateEl.textContent = message;
    if (connection) root.dataset.connection = connection;
  }
  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }
  function startTimer(startedAt) {
    if (startedAt && !timerEl.dataset.elapsedSince) timerEl.dataset.elapsedSince = Math.round(startedAt * 1000);
  }

  function newPeer() {
    if (pc) pc.close();
    pc = new RTCPeerConnection({ iceServers: iceServers });
    stream.getTracks().forEach(function (track) { pc.addTrack(track, stream); });
    pc.onicecandidate = function (e) { send({ type: "signal", candidate: e.candidate ? e.candidate.toJSON() : null }); };
    pc.ontrack = function (e) {
      audio.srcObject = e.streams[0];
      meter(e.streams[0], [document.getElementById("partner-level"), document.getElementById("partner-speaker")]);
    };
    pc.onconnectionstatechange = function () {
      var state = pc.connectionState;
      root.dataset.connection = state;
      if (state === "connected") show(text.textConnected);
      else if (state === "connecting") show(text.textConnecting);
      else if (state === "failed" || state === "disconnected") show(text.textReconnecting);
    };
    return pc;
  }
  // Offers are numbered: when the caller offers twice (a repeated "peer joined"), the callee
  // answers both, and only the answer to the latest offer may be applied.
  function call() {
    var peer = newPeer(), number = ++callNumber;
    show(text.textConnecting);
    return peer.createOffer().then(function (offer) { return peer.setLocalDescription(offer); })
      .then(function () { send({ type: "signal", call: number, description: peer.localDescription.toJSON() }); });
  }
  function onSignal(data) {
    if (data.description && data.description.type === "offer") {
      var peer = newPeer();
      return peer.setRemoteDescription(data.description)
        .then(function () { return peer.createAnswer(); })
        .then(function (answer) { return peer.setLocalDescription(answer); })
        .then(function () { send({ type: "signal", call: data.call, description: peer.localDescription.toJSON() }); });
    }
    if (data.description && data.call !== callNumber) return;  // the answer to an offer replaced since
    if (data.description && pc) return pc.setRemoteDescription(data.description);
    if ("candidate" in data && pc) return pc.addIceCandidate(data.candidate || undefined).catch(function () {});
  }
  // Speaking indicator: the audio level of a stream, 10 times a second, on the given elements
  // (--level from 0 to 1, and data-speaking while it is above a murmur).
  var audioContext = null;
  function meter(media, elements) {
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext || !media.getAudioTracks().length) return;
    audioContext = audioContext || new AudioContext();
    if (audioContext.state === "suspended") audioContext.resume().catch(function () {});
    var analyser = audioContext.createAnalyser(), samples = new Uint8Array(512), lastLoud = 0;
    analyser.fftSize = 512;
    audioContext.createMediaStreamSource(media).connect(analyser);
    meters.push(setInterval(function () {
      analyser.getByteTimeDomainData(samples);
      var sum = 0;
      for (var i = 0; i < samples.length; i++) { var v = (samples[i] - 128) / 128; sum += v * v; }
      var rms = Math.sqrt(sum / samples.length), level = Math.min(1, rms * 8), now = Date.now();
      if (rms > 0.012) lastLoud = now;  // a quiet room stays under it; a voice does not
      elements.forEach(function (el) {
        if (!el) return;
        el.style.setProperty("--level", level.toFixed(2));
        el.dataset.speaking = String(now - lastLoud < 600);  // between words, still speaking
      });
    }, 100));
  }
  document.addEventListener("pointerdown", function () {  // a page opened without a tap starts muted
    if (audioContext && audioContext.state === "suspended") audioContext.resume().catch(function () {});
  });
  function end() {
    ended = true;
    show(text.textEnded, "ended");
    if (pc) pc.close();
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    meters.forEach(clearInterval);
    if (audioContext) audioContext.close().catch(function () {});
    delete timerEl.dataset.elapsedSince;
    document.querySelectorAll("#mute, #leave").forEach(function (b) { b.disabled = true; });
    // The end screen (duration, keep in touch, block or report, meet someone else) as the server renders it.
    htmx.ajax("GET", text.url, { target: "#room", select: "#room", swap: "outerHTML" });
  }

  var handlers = {
    "room.state": function (d) {
      startTimer(d.started_at);
      if (!stream) return;
      if (!d.peer_present) show(text.textWaiting, "waiting");
      else if (caller) return call();
    },
    "room.peer_joined": function (d) { startTimer(d.started_at); if (stream && caller) return call(); },
    "room.peer_left": function () { if (stream) show(text.textPartnerLeft, "reconnecting"); },
    "room.no_mic": function () { if (stream) show(text.textPartnerNoMic, "partner-no-mic"); },
    "room.signal": function (d) { if (stream) return onSignal(d); },
    "room.ended": end,
    "room.keep": function () { document.getElementById("keep-partner").textContent = text.textPartnerKeeps; },
    "room.kept": function (d) {
      var box = document.getElementById("keep-in-touch"), link = document.createElement("a");
      link.className = "button primary";
      link.href = d.conversation_url;
      link.textContent = text.textOpenConversation;
      box.replaceChildren(link);
    }
  };
  function connect() {
    var path = text.ws + (stream ? "" : "?mic=off");
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path, ["blueberry.json"]);
    ws.onopen = function () { retries = 0; };
    ws.onmessage = function (e) {
      var event = JSON.parse(e.data), handler = handlers[event.type];
      // One signal at a time, in order: a candidate must not overtake the offer it belongs to.
      if (handler) signals = signals.then(function () { return handler(event.data); }).catch(function () {});
    };
    ws.onclose = function (e) {
      if (ended || e.code === 1000 || e.code === 1008) return;
      show(text.textReconnecting, "reconnecting");
      setTimeout(connect, Math.min(500 * Math.pow(2, retries++), 10000));
    };
  }
  muteBtn.addEventListener("click", function () {
    var muted = muteBtn.getAttribute("aria-pressed") !== "true";
    stream.getAudioTracks().forEach(function (track) { track.enabled = !muted; });
    muteBtn.setAttribute("aria-pressed", String(muted));
    muteBtn.textContent = muted ? text.textUnmute : text.textMute;
  });
  var media = navigator.mediaDevices;  // absent on a page that is not https or localhost
  (media ? media.getUserMedia({ audio: true }) : Promise.reject(new Error("no media devices"))).then(function (media) {
    stream = media;
    muteBtn.disabled = false;
    meter(stream, [document.getElementById("my-level")]);
    connect();
  }).catch(function () {
    show(text.textNoMic, "no-microphone");
    connect();
  });
})();
