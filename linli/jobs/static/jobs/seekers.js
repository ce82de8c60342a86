/* Seeker profile form (jobs:seeker_me, jobs:seeker_new): a point near home picked on the map, or
 * the street's centre; the community list follows the street. No inline scripts (CSP). */
(function () {
  "use strict";
  var form = document.getElementById("seeker-form");
  if (!form) return;
  var lat = document.getElementById("f-lat"), lon = document.getElementById("f-lon");
  var where = document.getElementById("f-where"), street = document.getElementById("f-street");
  var community = document.getElementById("f-community"), centreBtn = document.getElementById("f-centre");
  var mapEl = document.getElementById("seeker-map"), centresNode = document.getElementById("street-centres");
  var centres = centresNode ? JSON.parse(centresNode.textContent) : {};
  var map = null, marker = null;

  function gcj(la, lo) {
    if (mapEl && mapEl.dataset.tiles && mapEl.dataset.crs === "gcj02" && window.linliWgs84ToGcj02) {
      var g = window.linliWgs84ToGcj02(lo, la);
      return [g[1], g[0]];
    }
    return [la, lo];
  }
  function toWgs(ll) {
    if (mapEl && mapEl.dataset.tiles && mapEl.dataset.crs === "gcj02" && window.linliWgs84ToGcj02) {
      var g = window.linliWgs84ToGcj02(ll.lng, ll.lat);
      return { lat: ll.lat - (g[1] - ll.lat), lng: ll.lng - (g[0] - ll.lng) };
    }
    return ll;
  }
  function mark(la, lo, zoom) {
    if (!map) return;
    var ll = gcj(la, lo);
    if (!marker) marker = L.circleMarker(ll, { radius: 10, color: "#b3261e", weight: 3, fillOpacity: 0.4 }).addTo(map);
    else marker.setLatLng(ll);
    if (zoom) map.setView(ll, Math.max(map.getZoom() || 0, 15));
  }
  function setPoint(la, lo, text, zoom) {
    lat.value = la.toFixed(6);
    lon.value = lo.toFixed(6);
    where.textContent = text;
    mark(la, lo, zoom);
  }
  function streetCentre() { return street && centres[street.value]; }
  function useCentre() {
    var c = streetCentre();
    if (!c) { where.textContent = form.dataset.noCentre; return; }
    setPoint(c[0], c[1], form.dataset.centreUsed, true);
  }
  function filterCommunities() {
    if (!community) return;
    Array.prototype.forEach.call(community.options, function (o) {
      if (!o.value) return;
      var other = street.value && o.dataset.street !== street.value;
      o.hidden = !!other;
      o.disabled = !!other;
      if (other && o.selected) community.value = "";
    });
  }
  if (centreBtn) centreBtn.addEventListener("click", useCentre);
  if (street) street.addEventListener("change", function () {
    filterCommunities();
    var c = streetCentre();
    if (c && map) map.setView(gcj(c[0], c[1]), 15);
    if (!lat.value && c) where.textContent = form.dataset.centreUsed;
  });
  filterCommunities();

  function attach() {
    if (!mapEl || !mapEl._linliMap) return false;
    map = mapEl._linliMap;
    map.on("click", function (e) {
      var ll = toWgs(e.latlng);
      setPoint(ll.lat, ll.lng, form.dataset.mapPicked, false);
    });
    if (lat.value && lon.value) mark(parseFloat(lat.value), parseFloat(lon.value), true);
    else {
      var c = streetCentre();
      if (c) map.setView(gcj(c[0], c[1]), 15);
    }
    mapEl.dataset.picker = "1";
    return true;
  }
  if (!attach()) {
    var tries = 0, timer = window.setInterval(function () {
      tries += 1;
      if (attach() || tries > 50) window.clearInterval(timer);
    }, 100);
  }
})();
