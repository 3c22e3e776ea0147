"""Telling people and site scripts what happened to a job.

Layer rule: imports `pagetally.core` and `pagetally.errors` only (plus the
standard library). Nothing here raises because a site command or the mail
server failed: each failure is logged in one line and the job goes on.

What the backend calls (all keyword arguments after the first ones):

hooks (`pagetally.notify.hooks`) — `prehook` / `posthook`::

    env = hook_environment(Phase.BEFORE, facts, user=..., quota=..., printer=...,
                           printer_groups=(...), decision=..., action=None,
                           reason=None, precomputed_pages=..., precomputed_price=...,
                           original_user=..., original_billing_code=...,
                           printer_host=..., data_file=..., directory=...)
    run_hook("prehook", config.get("prehook", printer), env)      # -> CommandResult | None
    env = hook_environment(Phase.AFTER, facts, ..., job_pages=N, job_price=P)
    run_hook("posthook", config.get("posthook", printer), env)

  `hook_environment` is pure (PYKOTA* and PAGETALLY_* variables, see hooks.py);
  `run_hook` splits the admin's command with shlex (no shell), gives it this
  process's environment minus stale PYKOTA*/PAGETALLY_* values plus `env`,
  stdin /dev/null, a timeout (30 s), and logs a failure. Never raises.
"""
