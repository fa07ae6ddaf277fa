"""Composer stage: capture bundle -> guide (step text, annotated screenshots, edits, exports)."""
