"""vnreorg.annotation stage."""
