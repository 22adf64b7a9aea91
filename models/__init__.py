"""vnreorg.models stage."""
