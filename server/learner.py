"""What the learner pages show besides the guide itself: the video's chapters (the intro its own, each
step's from where the step starts), where a small screen zooms each screenshot to, and the tags a share
page carries for link previews (Open Graph) and oEmbed discovery."""
from __future__ import annotations

from urllib.parse import quote

from guidecast.kernel.markup import plain

INTRO_LABEL = "Introduction"


def chapters(video: dict | None, guide: dict) -> list[dict]:
    """One chapter per step segment of the video (`start` in seconds, the learner's step number and text),
    preceded by the intro's own chapter when the video has one."""
    if not video:
        return []
    steps = {s["id"]: s for s in guide["steps"]}
    out: list[dict] = []
    for seg in video["segments"]:
        if seg["kind"] == "intro" and seg["duration"] > 0:
            out.append({"start": float(seg["start"]), "label": INTRO_LABEL, "step_id": "", "number": None})
        elif seg["kind"] == "step":
            st = steps.get(seg["id"])
            if st is None:
                continue
            out.append({"start": float(seg["start"]), "label": f"Step {st['number']}: {st['text']}",
                        "step_id": seg["id"], "number": st["number"]})
    if out and out[0]["step_id"] and out[0]["start"] > 0:
        out[0]["start"] = 0.0  # a video without an intro: the first step's chapter starts the video
    return out


def zoom_box(step: dict) -> str | None:
    """`x,y,w,h,W,H`: the target's box and the picture's size, in picture pixels, for the small-screen zoom
    (static/learner.js picks the region around the box that fits the screen)."""
    box, size = step.get("highlight"), step.get("image_size")
    if not box or not size or box["width"] <= 0 or box["height"] <= 0:
        return None
    return ",".join(str(round(v, 1)) for v in (box["x"], box["y"], box["width"], box["height"], size[0], size[1]))


def share_meta(base: str, token: str, guide: dict, video: dict | None, files: str) -> dict:
    """Open Graph and oEmbed discovery for a share page: absolute URLs under BASE_URL."""
    url = f"{base}/s/{token}"
    first = next((s for s in guide["steps"] if s.get("image")), None)
    if video:
        image, size = f"{base}{files}video/{video['files']['poster']}", (video["settings"]["width"],
                                                                           video["settings"]["height"])
    elif first:
        image, size = f"{base}{files}guide/{first['image']}", tuple(first.get("image_size") or (0, 0))
    else:
        image, size = None, (0, 0)
    return {"url": url, "title": guide["title"], "description": plain(guide.get("intro", ""))[:300],
            "image": image, "image_width": size[0], "image_height": size[1], "video": bool(video),
            "embed": f"{base}/embed/{token}",
            "oembed": f"{base}/oembed?url={quote(url, safe='')}&format=json"}
