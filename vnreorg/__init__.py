"""vnreorg: structured facts about the restructuring of Vietnam's political-system apparatus."""

__version__ = "0.1.0"
