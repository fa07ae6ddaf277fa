"""Narration stage: guide -> voice (TTS engines) -> video (segments, captions, chapters)."""
