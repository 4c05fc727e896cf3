"""The lunadyn command line: every command, one line per user error."""
