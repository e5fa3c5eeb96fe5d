// Matching: share the browser's location with a join, when the user ticks the box.
(function () {
  "use strict";
  var position = null;
  document.addEventListener("change", function (e) {
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
  });
})();
