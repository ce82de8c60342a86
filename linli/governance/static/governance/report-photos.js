/* Photos of a report, on the phone (issue 12 §8; docs/governance.md "Photos and bad signal").
 *
 * window.linliPhotos.shrink(file, stamp, maxBytes) decodes a chosen photo (EXIF orientation
 * applied), draws it at most LONG_SIDE px on its long side with a stamp strip at the bottom — the
 * device's local date and time, the position with its accuracy, the place name — and re-encodes
 * it as JPEG, lowering the quality (then the size) until it is under maxBytes, the server's
 * per-photo limit. It resolves to {file, before, after, width, height}; it rejects when the
 * browser cannot decode the photo (the caller then sends the original, which the server checks).
 *
 * window.linliPhotos.stampFields(stamp) is the JSON the form sends beside the photo
 * (photo_stamp: taken_at with the device's offset, lat, lon, accuracy).
 */
(function () {
  "use strict";

  var LONG_SIDE = 1600;
  var MIN_SIDE = 320; // below this the photo is useless: give up instead

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // "2026-11-30 14:05": the device's local time, as the work-photo cameras print it
  function localText(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // ISO 8601 with the device's offset: 2026-11-30T14:05:09+08:00
  function isoLocal(d) {
    var off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }

  function sizeText(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function viaImg(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file), img = new Image();
      img.onload = function () {
        resolve({ src: img, width: img.naturalWidth, height: img.naturalHeight, done: function () { URL.revokeObjectURL(url); } });
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }

  function decode(file) {
    if (!window.createImageBitmap) return viaImg(file);
    return window.createImageBitmap(file, { imageOrientation: "from-image" })
      .then(function (bmp) {
        return { src: bmp, width: bmp.width, height: bmp.height, done: function () { if (bmp.close) bmp.close(); } };
      })
      .catch(function () { return viaImg(file); });
  }

  function stampLines(stamp) {
    var lines = [localText(stamp.date)];
    if (stamp.lat != null && stamp.lon != null) {
      var pos = stamp.lat.toFixed(5) + ", " + stamp.lon.toFixed(5);
      if (stamp.accuracy != null) pos += "  ±" + Math.round(stamp.accuracy) + " m";
      lines.push(pos);
    }
    if (stamp.place) lines.push(stamp.place);
    return lines;
  }

  function fitText(ctx, text, width) {
    if (ctx.measureText(text).width <= width) return text;
    var t = text;
    while (t.length > 1 && ctx.measureText(t + "…").width > width) t = t.slice(0, -1);
    return t + "…";
  }

  // The strip: dark, across the bottom, white text large enough to read on the photo shown small.
  function drawStamp(ctx, w, h, lines) {
    var px = Math.max(14, Math.round(Math.min(w, h) * 0.04));
    var gap = Math.round(px * 0.35), padding = Math.round(px * 0.6);
    var strip = padding * 2 + lines.length * px + (lines.length - 1) * gap;
    ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
    ctx.fillRect(0, h - strip, w, strip);
    ctx.fillStyle = "#fff";
    ctx.textBaseline = "top";
    lines.forEach(function (line, i) {
      ctx.font = (i === 0 ? "bold " : "") + px + "px system-ui, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
      ctx.fillText(fitText(ctx, line, w - padding * 2), padding, h - strip + padding + i * (px + gap));
    });
  }

  function encode(canvas, quality) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) { if (blob) resolve(blob); else reject(new Error("encode")); }, "image/jpeg", quality);
    });
  }

  function shrink(file, stamp, maxBytes) {
    return decode(file).then(function (img) {
      var long = Math.max(img.width, img.height);
      if (!long) { img.done(); throw new Error("decode"); }
      var scale = Math.min(1, LONG_SIDE / long), quality = 0.82;
      var canvas = document.createElement("canvas"), ctx = canvas.getContext("2d");
      var lines = stampLines(stamp);
      function attempt() {
        var w = Math.max(1, Math.round(img.width * scale)), h = Math.max(1, Math.round(img.height * scale));
        canvas.width = w;
        canvas.height = h;
        ctx.fillStyle = "#fff"; // a transparent PNG becomes white, not black
        ctx.fillRect(0, 0, w, h);
        ctx.drawImage(img.src, 0, 0, w, h);
        drawStamp(ctx, w, h, lines);
        return encode(canvas, quality).then(function (blob) {
          if (blob.size <= maxBytes) return { blob: blob, width: w, height: h };
          if (quality > 0.5) quality = Math.round((quality - 0.12) * 100) / 100;
          else { scale *= 0.75; quality = 0.8; }
          if (Math.max(w, h) * 0.75 < MIN_SIDE) throw new Error("too big");
          return attempt();
        });
      }
      return attempt().then(function (out) {
        img.done();
        canvas.width = canvas.height = 0;
        var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
        var shrunk = new File([out.blob], name, { type: "image/jpeg", lastModified: stamp.date.getTime() });
        return { file: shrunk, before: file.size, after: shrunk.size, width: out.width, height: out.height };
      }, function (err) { img.done(); throw err; });
    });
  }

  function stampFields(stamp) {
    var out = { taken_at: isoLocal(stamp.date) };
    if (stamp.lat != null && stamp.lon != null) {
      out.lat = Math.round(stamp.lat * 1e6) / 1e6;
      out.lon = Math.round(stamp.lon * 1e6) / 1e6;
      if (stamp.accuracy != null) out.accuracy = Math.round(stamp.accuracy);
    }
    return JSON.stringify(out);
  }

  window.linliPhotos = { shrink: shrink, stampFields: stampFields, sizeText: sizeText, localText: localText };
})();
