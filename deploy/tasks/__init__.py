"""Shipyard's invoke collection. Task modules import only invoke at top level,
so `invoke --list` stays fast; the work is imported inside each task."""

from invoke import Collection

from deploy.tasks import build, core, db, doctor, lab, lock, plan, report, siteconfig

ns = Collection()
for _task in (build.build, core.deploy, core.rollback, core.releases, core.status, core.stop, plan.plan,
              report.report, doctor.doctor):
    ns.add_task(_task)
ns.add_collection(siteconfig.ns)
ns.add_collection(db.ns)
ns.add_collection(lab.ns)
ns.add_collection(lock.ns)
