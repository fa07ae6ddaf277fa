// Runs in the page: the form fields, buttons and menu items a person can see, in reading order, named as
// a person would name them (ARIA is capture/aria.js, spliced in by locate.py). When a modal dialog is
// open, only what is in it (the page behind cannot be used).
() => {
  const A = __ARIA__;
  const MAX = 200;
  const short = (s) => { const t = A.norm(s); return t.length > 60 ? t.slice(0, 59).trimEnd() + "…" : t; };
  const dialog = [...document.querySelectorAll("dialog[open], [role=dialog], [role=alertdialog]")]
    .find((d) => A.isVisible(d) && (d.tagName !== "DIALOG" || d.matches(":modal") || d.hasAttribute("open")));
  const root = dialog || document.body;
  const out = [];
  const seen = new Set();
  const sel = "input, select, textarea, button, [role=button], [role=menuitem], [role=tab], nav a[href], [role=navigation] a[href], [role=menu] a[href]";
  for (const el of root.querySelectorAll(sel)) {
    if (out.length >= MAX) break;
    if (!A.isVisible(el) || seen.has(el)) continue;
    // Controls in a table row or a list item (outside menus) belong to the data shown, not to the page:
    // a new row's checkbox is not a new field.
    if (el.closest("tr, [role=row], [role=gridcell]")) continue;
    const item = el.closest("li, [role=listitem]");
    if (item && !item.closest("nav, [role=navigation], [role=menu], [role=menubar], [role=tablist]")) continue;
    seen.add(el);
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (tag === "input" && type === "hidden") continue;
    let kind;
    if (["input", "select", "textarea"].includes(tag) && !["submit", "button", "reset", "image"].includes(type)) kind = "field";
    else if (tag === "a" || A.roleOf(el) === "menuitem" || A.roleOf(el) === "tab") kind = "menu item";
    else kind = "button";
    const name = short(kind === "field" ? (A.labelOf(el) || A.nameOf(el) || el.getAttribute("placeholder") || "") : A.nameOf(el));
    const r = el.getBoundingClientRect();
    if (name) out.push({ kind, name, box: { x: r.x, y: r.y, width: r.width, height: r.height } });
  }
  return out;
}
