"""Resource-based policies: the documents Lambda keeps on functions, versions, aliases
and layer versions (``document``), and AWS's policy evaluation logic (``evaluate``)."""
