"""Identities: accounts, IAM users and roles, access keys, managed and inline policies, STS sessions (issue 17)."""
