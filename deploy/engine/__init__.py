"""The deploy engine: what a deploy and a rollback do, in order, across hosts.

`flow` reads top-down (starting → updating → publishing → finishing, `failed` on
error); `stages` runs hooks and emits stage/step events; `rollout` publishes in
batches (drain → switch → restart → health → ready) and reverts; `context` holds
one run's targets and settings; `lock` is the environment's lease; `run_record`
lets `--resume` finish a dead run; `db_stage` is the database step; `plan` and
`plan_inputs` are the dry run; `health` checks a host. Everything here drives
hosts only through `deploy.release.hostops.HostOps`, never a transport directly.
"""
