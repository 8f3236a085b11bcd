"""Authentication: verifying AWS request signatures (``sigv4``)."""
