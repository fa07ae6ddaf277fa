"""Branding for exports: `brand.json` in a user template folder (`--template-dir`).

    {"name": "Acme", "logo": "logo.png", "accent": "#0a7cff", "ink": "#111", "background": "#fff",
     "font": "Inter, system-ui, sans-serif"}

Every key is optional; the logo path is relative to the template folder and is inlined. Whole templates
(`guide.html.j2`, `guide.md.j2`, `guide.css`, ...) can be overridden by files of the same name there.
"""
from __future__ import annotations

import base64
import json
import mimetypes
import re
from pathlib import Path

from pydantic import ValidationError, field_validator

from guidecast.kernel.errors import GuidecastError, describe_validation_error
from guidecast.kernel.model import Strict

BRAND_FILE = "brand.json"
_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|rgba?\([0-9.,%\s]+\)|hsla?\([0-9.,%\sdeg]+\))$")
_FONT = re.compile(r"^[\w\s,\"'.-]{1,200}$")


class Brand(Strict):
    name: str | None = None
    logo: str | None = None  # a data: URI once loaded
    accent: str = "#ff7a00"
    ink: str = "#1d2430"
    background: str = "#f6f7f9"
    font: str = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif'

    @field_validator("accent", "ink", "background")
    @classmethod
    def _colour(cls, v: str) -> str:
        if not _COLOUR.match(v.strip()):
            raise ValueError("a CSS colour like #0a7cff, rgb(10, 124, 255) or a colour name")
        return v.strip()

    @field_validator("font")
    @classmethod
    def _font(cls, v: str) -> str:
        if not _FONT.match(v):
            raise ValueError("a CSS font-family list: names, spaces, commas and quotes only")
        return v


def load_brand(template_dir: Path | None) -> Brand:
    if template_dir is None or not (Path(template_dir) / BRAND_FILE).is_file():
        return Brand()
    path = Path(template_dir) / BRAND_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError as e:
        raise GuidecastError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise GuidecastError(f"{path}: expected an object like {{\"accent\": \"#0a7cff\"}}")
    try:
        brand = Brand.model_validate(data)
    except ValidationError as e:
        raise GuidecastError(describe_validation_error(path, e)) from None
    if brand.logo:
        logo = Path(template_dir) / brand.logo
        kind = mimetypes.guess_type(logo.name)[0]
        if not logo.is_file() or not kind or not kind.startswith("image/"):
            raise GuidecastError(f"{path}: field 'logo': {logo} is not an image file (.png, .svg, .jpg)")
        brand.logo = f"data:{kind};base64," + base64.b64encode(logo.read_bytes()).decode("ascii")
    return brand
