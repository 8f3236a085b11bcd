"""Code signing (issue 17): Lamb's signed-zip format, signing profiles and jobs, code signing configs.

AWS Signer's signed-zip layout is not public, so the format here is Lamb's own
(``envelope.py``); the profiles, jobs and configs follow AWS Signer's and Lambda's
documented behaviour (https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html).
"""
