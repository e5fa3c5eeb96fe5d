// Matching: share the browser's location with a join, when the user ticks the box; make an
// offer hard to miss in a background tab (the title, an optional chime, the browser's
// notification when the user allowed it).
(function () {
  "use strict";
  var root = document.getElementById("match");
  var position = null, title = document.title, audioContext = null;
  var SOUND_KEY = "bb:match-sound";

  document.addEventListener("change", function (e) {
    if (e.target.id === "match-sound") localStorage.setItem(SOUND_KEY, e.target.checked ? "on" : "off");
    if (e.target.id !== "share-location" || !e.target.checked) return;
    navigator.geolocation.getCurrentPosition(function (p) {
      position = { lat: p.coords.latitude, lon: p.coords.longitude };
    }, function () { e.target.checked = false; position = null; });
  });
  document.addEventListener("htmx:wsConfigSend", function (e) {
    var params = e.detail.parameters, box = document.getElementById("share-location");
    if (params.type !== "match.join") return;
    delete params.share_location;
    if (position && box && box.checked) { params.lat = position.lat; params.lon = position.lon; }
    unlockSound();  // "Find someone" is a tap: the one moment a page may start its audio
  });

  function soundOn() { return localStorage.getItem(SOUND_KEY) === "on"; }
  function unlockSound() {
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!soundOn() || !AudioContext) return;
    audioContext = audioContext || new AudioContext();
    if (audioContext.state === "suspended") audioContext.resume().catch(function () {});
  }
  function chime() {
    if (!soundOn() || !audioContext) return;
    [660, 880].forEach(function (hz, i) {
      var tone = audioContext.createOscillator(), gain = audioContext.createGain(), at = audioContext.currentTime + i * 0.18;
      tone.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.3);
      tone.connect(gain).connect(audioContext.destination);
      tone.start(at);
      tone.stop(at + 0.32);
    });
  }
  function announce(panel) {
    chime();
    if (document.visibilityState !== "hidden") return;
    document.title = root.dataset.textTitle;
    if (window.Notification && Notification.permission === "granted") {
      var name = panel.querySelector(".partner-name"), note = new Notification(root.dataset.textTitle, {
        body: name ? name.textContent.trim() : "", tag: "blueberry-match"
      });
      note.onclick = function () { window.focus(); note.close(); };
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") document.title = title;
  });
  document.addEventListener("htmx:load", function (e) {
    var panel = e.detail.elt;
    if (panel.id === "match-panel" && panel.dataset.state === "offer" && panel.dataset.matchId !== root.dataset.announced) {
      root.dataset.announced = panel.dataset.matchId;  // once per offer, not on every update of it
      announce(panel);
    }
  });

  // The "tell me in the background" controls: the chime is remembered here, notifications by the browser.
  var sound = document.getElementById("match-sound"), ask = document.getElementById("match-notify");
  if (sound) sound.checked = soundOn();
  function showPermission() {
    var status = document.getElementById("match-notify-status");
    if (!ask || !window.Notification) return;
    var state = Notification.permission;
    ask.hidden = state !== "default";
    status.textContent = state === "granted" ? root.dataset.textNotifyOn : state === "denied" ? root.dataset.textNotifyDenied : "";
  }
  if (ask && window.Notification) {
    ask.addEventListener("click", function () {
      Notification.requestPermission().then(showPermission);
    });
    showPermission();
  }
})();
