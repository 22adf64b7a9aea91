"""vnreorg.eval stage."""
