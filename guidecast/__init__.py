"""The guidecast command line: the outermost layer, calling one core function per stage."""
