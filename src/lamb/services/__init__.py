"""The service layer: what the API, the async queue and every trigger call below them.

``invoke.Invocations`` is the one door into the invoker (resolve, state check,
runtime readiness, recursion check, concurrency, submit); ``function_state`` moves
functions from Pending to Active; ``code_url`` signs and checks code download URLs;
``provisioning`` owns provisioned-concurrency configs; ``recursion`` and ``lineage``
are loop detection.
"""
