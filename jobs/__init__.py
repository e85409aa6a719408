"""Background work run by the Huey consumer (`huey_consumer jobs.main.huey`).

Tasks take ids, open a unit of work from ``jobs.huey_app.services()`` and call one core service function.
"""
