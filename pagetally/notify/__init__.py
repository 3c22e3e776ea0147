"""Telling people and site scripts what happened to a job.

Layer rule: imports `pagetally.core` and `pagetally.errors` only (plus the
standard library). Nothing here raises because a site command or the mail
server failed: each failure is logged in one line (logger "pagetally.notify.*")
and the job goes on. Site commands are the admin's text split with shlex (no
shell), get the job's facts only in environment variables, stdin /dev/null
(except the external mailer), their own session, and a timeout (30 s default).

What the backend calls, in job order:

1. The environment every site command sees (pure; PYKOTA* and PAGETALLY_*
   names, see hooks.py)::

       from pagetally.notify.hooks import Phase, hook_environment, run_hook
       env = hook_environment(Phase.BEFORE, facts, user=..., quota=...,
                              printer=..., printer_groups=(...), decision=...,
                              precomputed_pages=..., precomputed_price=...,
                              original_user=..., original_billing_code=...,
                              printer_host=..., data_file=..., directory=...,
                              device_uri=<real URI>)

2. overwrite_jobticket, before the decision (ticket.py)::

       from pagetally.notify.jobcommands import overwrite_jobticket, ask_confirmation
       answer = overwrite_jobticket(config.get("overwrite_jobticket", printer), env)
       # answer.action: CONTINUE | DENY | CANCEL; answer.refused; answer.reason
       # (clean, one line); answer.user / answer.billing_code: replacements or
       # None. Fails closed: a command that cannot run or hangs -> DENY.
       ok = ask_confirmation(config.get("askconfirmation", printer), env)  # bool

3. Mail after the decision (mail.py; mailto devnull never connects)::

       from pagetally.notify.mail import MailSettings, notify_job
       mail = MailSettings.from_config(config, printer)
       delivery = notify_job(decision, facts, mail, user=user, quota=quota)
       # nothing for ALLOW/CANCEL; DENY/WARN -> the person and/or admin

4. Hooks (an ALLOW/WARN/DENY job alike; PYKOTAPHASE BEFORE/AFTER)::

       run_hook("prehook", config.get("prehook", printer), env)  # -> CommandResult | None
       env = hook_environment(Phase.AFTER, facts, ..., decision=decision,
                              job_pages=charged_pages, job_price=charged_price)
       run_hook("posthook", config.get("posthook", printer), env)

5. Banners (banners.py; `builtin` = PageTally's own PostScript page)::

       from pagetally.notify.banners import BannerKind, BannerRules, choose_banner, banner_bytes
       rules = BannerRules.from_values(startingbanner=config.get("startingbanner", p),
           endingbanner=config.get("endingbanner", p),
           accountbanner=config.get("accountbanner", p),
           maxdenybanners=config.get("maxdenybanners", p),
           printcancelledbanners=config.get("printcancelledbanners", p),
           avoidduplicatebanners=config.get("avoidduplicatebanners", p))
       choice = choose_banner(BannerKind.STARTING, rules, action, user=facts.user,
                              deny_banners_printed=quota.warn_count,
                              last_job=<printer's previous JobRecord or None>, now=now)
       if choice.print:
           data = banner_bytes(BannerKind.STARTING, rules, facts, env, action=action,
                               reason=reason, when=now)   # bytes | None
       # choice.charged: count one page; choice.deny_banner: record one more

6. An unexpected failure (crashrecipient, off unless set)::

       from pagetally.notify.mail import send_crash_report
       send_crash_report(config.get("crashrecipient"), mail, exc,
                         traceback.format_exc(), facts,
                         privacy=config.get("privacy"))

`pagetally warn` (pagetally/cli/warn.py) sends the periodic warnings with
`messages.warning_notices` and `mail.deliver`.
"""
