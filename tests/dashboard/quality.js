/* Page-side measurements for tests/dashboard/test_quality.py: what a reader can see, the
 * background behind it, the controls' boxes and the focus. */
window.__quality = {
  hiddenByAncestor(element) {
    for (let node = element; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      const box = node.getBoundingClientRect();
      if (style.overflow !== "visible" && (box.width <= 1 || box.height <= 1)) return true;
    }
    return false;
  },
  /** In a box that scrolls sideways (a wide table on a phone), so that it may lie left of
   * the screen for now. */
  inSidewaysScroller(element) {
    for (let node = element.parentElement; node; node = node.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(node).overflowX)) return true;
    }
    return false;
  },
  /** Rendered, larger than the 1px of visually hidden text, not moved off the left edge (as
   * the skip link is until it has the focus). */
  seen(element) {
    if (!element.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    const box = element.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && !this.hiddenByAncestor(element)
      && (box.right > 0 || this.inSidewaysScroller(element));
  },
  /** The backgrounds from the element outwards, up to the first opaque one. */
  backgrounds(element) {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage !== "none") layers.push(`image: ${style.backgroundImage}`);
      layers.push(style.backgroundColor);
      if (!/rgba\(.*, 0(\.\d+)?\)$/.test(style.backgroundColor)) break;
    }
    return layers;
  },
  opacity(element) {
    let opacity = 1;
    for (let node = element; node; node = node.parentElement) {
      opacity *= Number(getComputedStyle(node).opacity);
    }
    return opacity;
  },
  describe(element) {
    const words = (element.getAttribute("aria-label") || element.textContent || element.value || "")
      .trim().replace(/\s+/g, " ").slice(0, 40);
    return `${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""} "${words}"`;
  },
  /** The part of an element that the boxes it lies in (which clip or scroll) leave shown. */
  shownPart(element) {
    const box = element.getBoundingClientRect();
    let [left, top, right, bottom] = [box.left, box.top, box.right, box.bottom];
    for (let node = element.parentElement; node; node = node.parentElement) {
      if (getComputedStyle(node).overflow !== "visible") {
        const around = node.getBoundingClientRect();
        [left, top] = [Math.max(left, around.left), Math.max(top, around.top)];
        [right, bottom] = [Math.min(right, around.right), Math.min(bottom, around.bottom)];
      }
    }
    return { left, top, right, bottom };
  },
  /** Wholly shown on the screen or, when larger than the screen, filling part of it. */
  inView(element) {
    const box = element.getBoundingClientRect();
    const shown = this.shownPart(element);
    const [width, height] = [document.documentElement.clientWidth, innerHeight];
    const [left, top] = [Math.max(shown.left, 0), Math.max(shown.top, 0)];
    const [right, bottom] = [Math.min(shown.right, width), Math.min(shown.bottom, height)];
    if (box.width > width || box.height > height) return right > left && bottom > top;
    return left <= box.left + 1 && top <= box.top + 1 && right >= box.right - 1 && bottom >= box.bottom - 1;
  },
  controls(selector) {
    return [...document.querySelectorAll(selector)].filter((element) => this.seen(element));
  },
  layout(selector) {
    const q = this;
    const width = document.documentElement.clientWidth;
    const problems = [];
    const scrolls = (node, axis) => {
      const style = getComputedStyle(node);
      const overflow = axis === "x" ? style.overflowX : style.overflowY;
      const more = axis === "x" ? node.scrollWidth > node.clientWidth : node.scrollHeight > node.clientHeight;
      return ["auto", "scroll"].includes(overflow) && more;
    };
    /** An open drop-down drawn above the page, whose choices may cover what lies below. */
    const layer = (control) => {
      const popup = control.closest(".picker[open] > .choices");
      return popup && getComputedStyle(popup).position === "absolute" ? popup : null;
    };
    const controls = q.controls(selector);
    for (const control of controls) {
      const box = control.getBoundingClientRect();
      let inSidewaysScroller = false;
      for (let node = control.parentElement; node && node !== document.body; node = node.parentElement) {
        if (scrolls(node, "x") || scrolls(node, "y")) {
          inSidewaysScroller = inSidewaysScroller || scrolls(node, "x");
          continue;  // the control can be scrolled into view
        }
        const style = getComputedStyle(node);
        if (style.overflowX !== "visible" || style.overflowY !== "visible") {
          const around = node.getBoundingClientRect();
          if (box.left < around.left - 1 || box.right > around.right + 1
              || box.top < around.top - 1 || box.bottom > around.bottom + 1) {
            problems.push(`${q.describe(control)} is cut off by ${q.describe(node)}`);
          }
        }
      }
      if (!inSidewaysScroller && (box.left < -1 || box.right > width + 1)) {
        problems.push(`${q.describe(control)} reaches past the screen (${box.left}..${box.right} of ${width})`);
      }
    }
    for (const [a, b] of controls.flatMap((a, i) => controls.slice(i + 1).map((b) => [a, b]))) {
      if (a.contains(b) || b.contains(a) || layer(a) !== layer(b)) continue;
      const x = q.shownPart(a);
      const y = q.shownPart(b);
      const across = Math.min(x.right, y.right) - Math.max(x.left, y.left);
      const down = Math.min(x.bottom, y.bottom) - Math.max(x.top, y.top);
      if (across > 1 && down > 1) {
        problems.push(`${q.describe(a)} and ${q.describe(b)} overlap`);
      }
    }
    return {
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: width,
      controls: controls.length,
      problems,
    };
  },
  texts() {
    const q = this;
    const found = [];
    const entry = (element, colour, what) => {
      const style = getComputedStyle(element);
      found.push({
        what,
        colour,
        opacity: q.opacity(element),
        backgrounds: q.backgrounds(element),
        size: parseFloat(style.fontSize),
        weight: Number(style.fontWeight),
      });
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!node.textContent.trim() || seen.has(element) || element.closest("option, script")) continue;
      seen.add(element);
      const range = document.createRange();
      range.selectNodeContents(node);
      const box = range.getBoundingClientRect();
      if (!q.seen(element) || box.width < 1 || box.right <= 0) continue;
      entry(element, getComputedStyle(element).color, q.describe(element));
    }
    for (const field of q.controls("input, select, textarea")) {
      if (["checkbox", "radio"].includes(field.type)) continue;
      entry(field, getComputedStyle(field).color, q.describe(field));
      if (field.placeholder && !field.value) {
        entry(field, getComputedStyle(field, "::placeholder").color, `placeholder of ${q.describe(field)}`);
      }
    }
    for (const canvas of document.querySelectorAll("canvas")) {
      const chart = window.Chart && Chart.getChart(canvas);
      if (!chart || !q.seen(canvas)) continue;
      for (const [name, scale] of Object.entries(chart.options.scales)) {
        entry(canvas, scale.ticks.color, `${canvas.id} ${name} axis labels`);
      }
      if (chart.options.plugins.legend.display) {
        entry(canvas, chart.options.plugins.legend.labels.color, `${canvas.id} legend`);
      }
    }
    return found;
  },
  /** Numbers every visible control (and the skip link, off-screen until focused) in page
   * order; says which of them Tab should stop at (not disabled, and of a radio group only
   * the chosen radio). */
  markControls(selector) {
    const q = this;
    document.querySelectorAll("[data-control]").forEach((e) => e.removeAttribute("data-control"));
    const controls = q.controls(selector).concat([...document.querySelectorAll(".skip")]);
    controls.sort((a, b) => a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1);
    controls.forEach((element, index) => { element.dataset.control = index; });
    return controls.map((element) => ({
      what: q.describe(element),
      tabbable: !element.disabled && !(element.type === "radio" && !element.checked),
    }));
  },
  focused() {
    const q = this;
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    let ring = element;
    while (ring && getComputedStyle(ring).outlineStyle === "none") {
      ring = ring.parentElement && ring.parentElement.closest("label");
    }
    const box = element.getBoundingClientRect();
    const style = ring ? getComputedStyle(ring) : null;
    return {
      stop: element.dataset.control === undefined ? null : Number(element.dataset.control),
      what: q.describe(element),
      inView: this.inView(element),
      box: [box.left, box.top, box.right, box.bottom].map(Math.round),
      ring: style && {
        width: parseFloat(style.outlineWidth),
        colour: style.outlineColor,
        backgrounds: q.backgrounds(ring.parentElement),
      },
    };
  },
  tabFromTheTop() {
    const start = document.createElement("span");
    start.tabIndex = -1;
    document.body.prepend(start);
    start.focus();
    start.addEventListener("blur", () => start.remove());
  },
};
