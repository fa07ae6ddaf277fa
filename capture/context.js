// What a person sees around an element, for naming it when it has no accessible name of its own:
// the placeholder, the column header, the row's text, the heading of the group it sits in, the text
// just before it, its position among like controls, and, for password fields, what the form is for.
// An expression: given the ARIA helpers (aria.js), evaluates to (el) => context (plain data, no values
// a person typed).
((A) => {
  const MAX = 60;
  const short = (s) => {
    const t = A.norm(s);
    if (!t) return null;
    return t.length > MAX ? t.slice(0, MAX - 1).trimEnd() + "…" : t;
  };
  const firstLine = (s) => short(((s || "").split("\n").map((x) => x.trim()).filter(Boolean)[0]) || "");
  const visible = (e) => A.isVisible(e);
  const isControl = (e) => ["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(e.tagName) || !!(e.getAttribute && e.getAttribute("role"));

  // The visible text of a node as a reader sees it; a select shows its chosen option, a field nothing.
  function shown(node) {
    if (node.nodeType === 3) return node.textContent;
    if (node.nodeType !== 1 || !visible(node)) return "";
    if (node.tagName === "SELECT") return node.selectedOptions.length ? node.selectedOptions[0].textContent : "";
    if (["INPUT", "TEXTAREA", "SCRIPT", "STYLE", "TEMPLATE"].includes(node.tagName)) return "";
    if (!node.querySelector("select,input,textarea")) return node.innerText || "";
    return Array.from(node.childNodes).map(shown).join(" ");
  }

  // The nearest text before `el` in reading order, within its row, group or form.
  function before(el) {
    const stop = el.closest("form,fieldset,tr,li,[role=row],[role=group],section,main,body");
    let node = el;
    for (let hops = 0; node && node !== stop && hops < 12; hops++) {
      let sib = node.previousSibling;
      while (sib) {
        const t = A.norm(shown(sib));
        if (t) {
          const lines = t.split(/\s{2,}|\n/);
          return short(lines[lines.length - 1]);
        }
        sib = sib.previousSibling;
      }
      node = node.parentNode;
    }
    return null;
  }

  function columnHeader(el) {
    const cell = el.closest("td,th,[role=cell],[role=gridcell]");
    if (!cell || cell === el) return null;
    const table = cell.closest("table,[role=table],[role=grid]");
    if (!table) return null;
    const row = cell.parentElement;
    const index = Array.from(row.children).indexOf(cell);
    const headRow = table.querySelector("thead tr") || table.querySelector("tr");
    if (!headRow || headRow === row) return null;
    const head = headRow.children[index];
    return head ? short(head.innerText) : null;
  }

  // The first words of the element's table row (rows = true) or list item (rows = false).
  function rowText(el, rows) {
    const row = el.closest(rows ? "tr,[role=row]" : "li,[role=listitem],[role=option]");
    if (!row || row === el) return null;
    // the row's own words, without the element's (a button's label is its own name, not the row's)
    const parts = [];
    for (const n of row.querySelectorAll("*")) {
      if (n === el || el.contains(n) || n.contains(el) || isControl(n)) continue;
      if (n.children.length === 0 && visible(n)) parts.push(n.innerText || "");
    }
    return firstLine(parts.join("\n"));
  }

  function groupHeading(el) {
    for (let e = el.parentElement, depth = 0; e && depth < 8; e = e.parentElement, depth++) {
      if (e.tagName === "FIELDSET") {
        const lg = e.querySelector(":scope > legend");
        if (lg && A.norm(lg.innerText)) return short(lg.innerText);
      }
      const role = A.roleOf(e);
      if (["group", "region", "form", "dialog", "search"].includes(role) || e.tagName === "FORM") {
        const n = A.norm(e.getAttribute("aria-label")) || A.labelOf(e);
        if (n) return short(n);
      }
      const h = e.querySelector(":scope > h1, :scope > h2, :scope > h3, :scope > h4, :scope > legend, :scope > header h2, :scope > header h3");
      if (h && visible(h) && (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) return short(h.innerText);
      if (e.tagName === "FORM" || e.tagName === "MAIN" || e.tagName === "BODY") break;
    }
    return null;
  }

  const kindOf = (e) => {
    if (e.tagName === "INPUT") return "input:" + (e.getAttribute("type") || "text").toLowerCase();
    return (A.roleOf(e) || e.tagName.toLowerCase());
  };

  // Position among the visible controls of the same kind that have no name of their own, in its form.
  function position(el) {
    const scope = el.closest("form") || document.body;
    const kind = kindOf(el);
    const like = Array.from(scope.querySelectorAll("input,select,textarea,button,[role]"))
      .filter((e) => kindOf(e) === kind && visible(e) && !A.nameOf(e));
    const i = like.indexOf(el);
    return i < 0 ? [null, null] : [i + 1, like.length];
  }

  function placeholder(el) {
    const ph = el.getAttribute("placeholder");
    if (ph) return short(ph);
    if (el.tagName === "SELECT" && el.options.length && el.options[0].value === "") return short(el.options[0].textContent);
    return null;
  }

  function formPurpose(el) {
    const form = el.closest("form") || document.body;
    const pw = Array.from(form.querySelectorAll("input[type=password]")).filter(visible);
    const submit = form.querySelector("button[type=submit],input[type=submit],button:not([type])");
    return {
      autocomplete: short(el.getAttribute("autocomplete")),
      form_passwords: pw.length || null,
      password_index: el.type === "password" ? pw.indexOf(el) + 1 || null : null,
      submit: submit ? short(A.nameOf(submit)) : null,
    };
  }

  return (el) => {
    const [ordinal, count] = position(el);
    return {
      placeholder: placeholder(el),
      column: columnHeader(el),
      row: rowText(el, true),
      item: rowText(el, false),
      header: !!el.closest("th,[role=columnheader]"),
      group: groupHeading(el),
      before: before(el),
      ordinal,
      count,
      ...formPurpose(el),
    };
  };
})
