"""Scripts and entry points the tests run in child processes."""
