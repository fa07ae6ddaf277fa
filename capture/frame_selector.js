// The selector a workflow's `frame:` path uses for an iframe element: its name, id, title, else its
// position among the document's frames. One copy for `guidecast record` (capture/recorder.py) and the
// browser extension's content script (capture/extension/bridge.js).
(e) => {
  const q = (s) => s.replace(/"/g, '\\"');
  if (e.name) return `iframe[name="${q(e.name)}"]`;
  if (e.id) return "#" + CSS.escape(e.id);
  if (e.title) return `iframe[title="${q(e.title)}"]`;
  const all = Array.from(e.ownerDocument.querySelectorAll("iframe,frame"));
  return `iframe >> nth=${all.indexOf(e)}`;
}
