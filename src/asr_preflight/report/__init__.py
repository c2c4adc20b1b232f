"""Reports render findings; they decide nothing."""
