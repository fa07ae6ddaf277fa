"""The kernel: what every stage shares and no stage owns (errors, files, the base model, boxes, progress,
markup, fonts, the Jinja environment). It imports no stage; every stage may import it."""
