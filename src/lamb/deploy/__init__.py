"""``lamb deploy``: SAM / CloudFormation templates applied to a Lamb server (a client, like the AWS CLI).

template.py (load) → package.py (local code → content-hashed s3://lamb-deploy/ keys) →
translate.py (aws-sam-translator) → plan.py (order, change set) → engine.py (apply with
progress, rollback, stack record in stack_client.py) through the handlers in registry.py.
"""
