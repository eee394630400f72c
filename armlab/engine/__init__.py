"""Engine-level pieces (hooks, loops) shared by all methods."""
