"""Function URLs: their addresses (``address``), which function an address names
(``index``), and serving HTTP requests to them (``serve``, ``event``, ``response``,
``cors``)."""
