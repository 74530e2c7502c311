"""Geography: place names, the offline gazetteer indexes, and distances (one radius rule)."""
