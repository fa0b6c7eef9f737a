"""`make loadtest`: simulated parents (Locust) against gunicorn on a seeded PostgreSQL database.

run.py drives it (database, seed, gunicorn, Locust, report, checks); locustfile.py is the
parents' journey and the floor probe; plan.py picks the accounts and what each one books;
checks.py reads the database after the load (no créneau over capacity, no duplicate booking).
"""
