"""Capture stage: workflows, replay in a real browser, and the capture bundle it produces."""
