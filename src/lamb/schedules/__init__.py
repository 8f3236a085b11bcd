"""Schedules (issue 16): EventBridge rules with a ScheduleExpression and EventBridge Scheduler
schedules, kept in SQLite and fired by one ticker through ``services.invoke.Invocations``.

- ``expressions``: AWS's rate/cron/at syntax (pure);
- ``store``: rules and schedules, written through to SQLite with their last fired tick;
- ``payloads``: the events a target receives (Scheduled Event, Input, InputPath, InputTransformer,
  Scheduler's context attributes);
- ``ticker``: when each tick is due, firing it once, missed ticks, retries, dead letters.
"""
