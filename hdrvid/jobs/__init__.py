"""Jobs: each assembles stages (or a whole evaluation) for one command and returns its typed report."""
