"""Event source mappings (issue 13): filtering, the mapping store, pollers and their manager."""
