"""Lamb: a self-hosted serverless function platform that behaves like AWS Lambda."""
__version__ = "0.1.0"
