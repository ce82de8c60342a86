"""What a 390 px phone shows: the measuring shared by the browser tests (``fits(page)``).

Chinese text is measured at its real width, which needs a Chinese font (``make browser`` installs
Debian's fonts-noto-cjk; ``tests/conftest.py`` fails a browser test without one). A page fits when

* ``document.documentElement.scrollWidth`` is at most the viewport's width (nothing scrolls the
  page sideways; a wide table scrolls inside its ``.table-wrap``), and
* no text is cut off or squeezed (``CLIPPED``): the boxes of the characters themselves
  (``Range.getClientRects`` of each text node), not the boxes of their containers, lie inside the
  viewport or inside the scroll container that holds them, and inside every ancestor that hides
  overflow; and no word is squeezed into a box narrower than three characters.
"""

from __future__ import annotations

from typing import Any

PHONE = {"width": 390, "height": 844}

# The boxes of the characters of every visible text node that stick out of the viewport, or out of
# an ancestor that hides its overflow. A scroll container (overflow auto/scroll) holds its text
# within reach; the container itself must fit (scrollWidth above).
CLIPPED = r"""() => {
  const vw = document.documentElement.clientWidth, out = [], boxes = new Map();
  const skip = 'script, style, noscript, template, option, datalist, .sr-only, .skip, [hidden], ' +
               '[aria-hidden="true"], .leaflet-pane, details:not([open]) > :not(summary)';
  const label = (el, text) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
    (text ? ' "' + text.trim().slice(0, 30) + '"' : '');
  const FREE = {l: -Infinity, r: Infinity, t: -Infinity, b: Infinity, scrollX: false, byX: '', byY: ''};
  // What may show of an element's content: the box left by the ancestors that hide overflow, up to
  // the nearest one that scrolls (its content is within reach by scrolling).
  const box = el => {
    if (!el || el === document.documentElement || el === document.body) return FREE;
    let c = boxes.get(el);
    if (c) return c;
    c = box(el.parentElement);
    const s = getComputedStyle(el);
    if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
      const b = el.getBoundingClientRect();
      c = Object.assign({}, c);
      if (s.overflowX === 'auto' || s.overflowX === 'scroll')
        Object.assign(c, {l: -Infinity, r: Infinity, scrollX: true, byX: ''});
      else Object.assign(c, {l: Math.max(c.l, b.left), r: Math.min(c.r, b.right), byX: label(el)});
      if (s.overflowY === 'auto' || s.overflowY === 'scroll') Object.assign(c, {t: -Infinity, b: Infinity, byY: ''});
      else Object.assign(c, {t: Math.max(c.t, b.top), b: Math.min(c.b, b.bottom), byY: label(el)});
    }
    boxes.set(el, c);
    return c;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT,
    {acceptNode: n => n.data.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
  const range = document.createRange();
  for (let n = walker.nextNode(); n && out.length < 8; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip)) continue;
    const st = getComputedStyle(el);
    if (st.visibility !== 'visible' || parseFloat(st.opacity) === 0) continue;
    range.selectNodeContents(n);
    const c = box(el), lines = Array.from(range.getClientRects()).filter(r => r.width >= 0.5);
    // squeezed: three or more characters over several lines in a box narrower than three characters
    // (not a phrase that wraps at the end of a wide line)
    const em = parseFloat(st.fontSize), chars = n.data.replace(/\s+/g, '').length;
    let block = el;
    while (block.parentElement && /^(inline|contents)$/.test(getComputedStyle(block).display))
      block = block.parentElement;
    if (chars >= 3 && lines.length >= 2 && block.getBoundingClientRect().width < 3 * em) {
      out.push(label(el, n.data) + ': squeezed to ' + lines.length + ' lines of a character or two');
      continue;
    }
    for (const r of lines) {
      if (r.width < 0.5 || r.height < 0.5) continue;
      let why = '';
      if (r.left < c.l - 1 || r.right > c.r + 1) why = 'cut by ' + c.byX;
      else if (r.top < c.t - 1 || r.bottom > c.b + 1) why = 'cut by ' + c.byY;
      else if (!c.scrollX && (r.left < -1 || r.right > vw + 1))
        why = 'outside the screen (' + Math.round(r.left) + '…' + Math.round(r.right) + ' px)';
      if (why) { out.push(label(el, n.data) + ': ' + why); break; }
    }
  }
  return out;
}"""

WIDE = r"""() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
               && !e.closest('.leaflet-pane')
               && !(e.parentElement && e.parentElement.closest('.table-wrap, .scroll-x')))
  .slice(0, 6)
  .map(e => e.tagName.toLowerCase() + '.' + String(e.className).trim().replace(/\s+/g, '.') +
            (e.id ? '#' + e.id : '') + ' → ' + Math.round(e.getBoundingClientRect().right) + ' px')"""

SETTLED = """() => document.fonts.ready.then(() => new Promise(done =>
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 20)))))"""
OPEN_DETAILS = """() => { const closed = Array.from(document.querySelectorAll('details:not([open])'));
  closed.forEach(d => { d.open = true; }); return closed.length; }"""


def fits(page: Any) -> None:
    """The page as it is now fits the viewport: no sideways scrolling, no cut or squeezed text."""
    page.evaluate(SETTLED)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (width, page.url, page.evaluate(WIDE))
    cut = page.evaluate(CLIPPED)
    assert not cut, (page.url, cut)
