"""The core above the stages: `build` (capture -> compose -> narrate -> manifest), `check_build` and
`refresh` (replay, compare, re-compose keeping the edit layer, re-render only what changed, record a
version). The CLI and the server's jobs both call these; neither has a build or refresh of its own."""
