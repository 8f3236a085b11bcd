"""API Gateway in front of functions (issue 20): HTTP APIs stored, routed and served on Lamb's port."""
