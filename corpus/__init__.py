"""vnreorg.corpus stage."""
