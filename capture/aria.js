// Role and accessible name of an element, as Playwright's getByRole sees them (a small subset of
// WAI-ARIA 1.2 / HTML-AAM / accname 1.2: explicit role, implicit roles of common HTML elements,
// aria-labelledby, aria-label, <label>, alt/title/placeholder/value and name from content).
// An expression: evaluates to {roleOf, nameOf, labelOf, isVisible, norm}.
(() => {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const FROM_CONTENT = new Set([
    "button", "cell", "checkbox", "columnheader", "gridcell", "heading", "link", "menuitem",
    "menuitemcheckbox", "menuitemradio", "option", "radio", "row", "rowheader", "switch", "tab",
    "tooltip", "treeitem",
  ]);
  const INPUT_ROLES = {
    button: "button", checkbox: "checkbox", image: "button", number: "spinbutton", radio: "radio",
    range: "slider", reset: "button", submit: "button", file: "button", search: "searchbox",
  };
  const hasName = (el) => !!(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.getAttribute("title"));
  const IMPLICIT = {
    A: (e) => (e.hasAttribute("href") ? "link" : null),
    AREA: (e) => (e.hasAttribute("href") ? "link" : null),
    ARTICLE: () => "article", ASIDE: () => "complementary", BUTTON: () => "button", DIALOG: () => "dialog",
    DD: () => "definition", DT: () => "term", FIELDSET: () => "group", FIGURE: () => "figure",
    FOOTER: (e) => (e.closest("article,aside,main,nav,section") ? null : "contentinfo"),
    FORM: (e) => (hasName(e) ? "form" : null),
    H1: () => "heading", H2: () => "heading", H3: () => "heading", H4: () => "heading", H5: () => "heading", H6: () => "heading",
    HEADER: (e) => (e.closest("article,aside,main,nav,section") ? null : "banner"),
    HR: () => "separator", IMG: (e) => (e.getAttribute("alt") === "" && !hasName(e) ? "presentation" : "img"),
    INPUT: (e) => {
      const t = (e.getAttribute("type") || "text").toLowerCase();
      if (t === "hidden") return null;
      if (["email", "search", "tel", "text", "url", ""].includes(t) && e.getAttribute("list")) return "combobox";
      return INPUT_ROLES[t] || "textbox";
    },
    LI: () => "listitem", MAIN: () => "main", MENU: () => "list", METER: () => "meter", NAV: () => "navigation",
    OL: () => "list", UL: () => "list", OPTGROUP: () => "group", OPTION: () => "option", OUTPUT: () => "status",
    P: () => "paragraph", PROGRESS: () => "progressbar", SECTION: (e) => (hasName(e) ? "region" : null),
    SELECT: (e) => (e.multiple || e.size > 1 ? "listbox" : "combobox"), SVG: () => "img",
    TABLE: () => "table", TBODY: () => "rowgroup", THEAD: () => "rowgroup", TFOOT: () => "rowgroup",
    TD: () => "cell", TH: (e) => (e.getAttribute("scope") === "row" ? "rowheader" : "columnheader"),
    TEXTAREA: () => "textbox", TR: () => "row",
  };

  function roleOf(el) {
    const explicit = norm(el.getAttribute && el.getAttribute("role")).split(" ")[0];
    if (explicit && explicit !== "none" && explicit !== "presentation") return explicit;
    const f = IMPLICIT[el.tagName.toUpperCase()];
    return f ? f(el) : null;
  }

  function isHidden(el) {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement || (e.getRootNode && e.getRootNode().host)) {
      if (e.getAttribute("aria-hidden") === "true" || e.hidden) return true;
    }
    const s = getComputedStyle(el);
    return s.display === "none" || s.visibility === "hidden";
  }

  function isVisible(el) {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 && r.height <= 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== "hidden" && s.display !== "none";
  }

  function controlValue(el) {
    const tag = el.tagName;
    if (tag === "SELECT") return Array.from(el.selectedOptions).map((o) => o.textContent).join(" ");
    if (tag === "INPUT" || tag === "TEXTAREA") return el.type === "password" ? "" : el.value || "";
    return "";
  }

  function labelText(el, visited) {
    if (!el.labels || !el.labels.length) return "";
    return norm(Array.from(el.labels).map((l) => content(l, visited, el)).join(" "));
  }

  function content(el, visited, skip) {
    const parts = [];
    for (const child of el.childNodes) {
      if (child.nodeType === 3) parts.push(child.textContent);
      else if (child.nodeType === 1 && child !== skip) {
        const block = ["block", "flex", "grid", "list-item", "table"].includes(getComputedStyle(child).display);
        const t = compute(child, visited, false, false);
        parts.push(block ? ` ${t} ` : t);
      }
    }
    if (el.shadowRoot) parts.push(content(el.shadowRoot, visited, skip));
    return parts.join("");
  }

  function compute(el, visited, root, viaLabelledBy) {
    if (visited.has(el)) return "";
    visited.add(el);
    if (!viaLabelledBy && isHidden(el)) return "";
    const lb = el.getAttribute("aria-labelledby");
    if (lb && !viaLabelledBy) {
      const t = norm(lb.split(/\s+/).map((id) => {
        const r = el.getRootNode().getElementById ? el.getRootNode().getElementById(id) : document.getElementById(id);
        return r ? compute(r, visited, false, true) : "";
      }).join(" "));
      if (t) return t;
    }
    const role = roleOf(el);
    if (!root && ["textbox", "combobox", "listbox", "spinbutton", "slider", "searchbox"].includes(role)) {
      return controlValue(el);
    }
    const al = norm(el.getAttribute("aria-label"));
    if (al) return al;
    const tag = el.tagName;
    if (tag === "INPUT") {
      const t = (el.getAttribute("type") || "text").toLowerCase();
      if (["button", "submit", "reset"].includes(t)) {
        return el.value || (t === "submit" ? "Submit" : t === "reset" ? "Reset" : "");
      }
      if (t === "image") return el.getAttribute("alt") || el.getAttribute("title") || "Submit";
    }
    if (["INPUT", "TEXTAREA", "SELECT", "BUTTON", "METER", "OUTPUT", "PROGRESS"].includes(tag)) {
      const l = labelText(el, visited);
      if (l) return l;
    }
    if (tag === "IMG" || tag === "AREA") {
      const alt = el.getAttribute("alt");
      if (alt) return alt;
    }
    if (tag === "FIELDSET") {
      const lg = el.querySelector(":scope > legend");
      if (lg) return content(lg, visited);
    }
    if (tag === "TABLE" && el.caption) return content(el.caption, visited);
    if (!root || viaLabelledBy || FROM_CONTENT.has(role) || (tag === "BUTTON")) {
      const t = norm(content(el, visited));
      if (t) return t;
    }
    if (tag === "INPUT" || tag === "TEXTAREA") {
      const ph = el.getAttribute("title") || el.getAttribute("placeholder");
      if (ph) return ph;
    }
    return el.getAttribute("title") || "";
  }

  const nameOf = (el) => norm(compute(el, new Set(), true, false));

  function labelOf(el) {
    const t = el.labels && el.labels.length ? labelText(el, new Set()) : "";
    if (t) return t;
    const lb = el.getAttribute("aria-labelledby");
    if (lb) return norm(lb.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || "").join(" "));
    return norm(el.getAttribute("aria-label"));
  }

  return { roleOf, nameOf, labelOf, isVisible, norm };
})()
