"""Inserting many rows in one statement, whatever their number, on PostgreSQL and SQLite.

Django's `bulk_create` splits an INSERT on SQLite into batches of 999 parameters (about a
hundred rows), so that the number of queries grows with the rows, and spends most of its time
preparing each value of each row. Here each distinct value of a column is converted once, then
the rows travel as one parameter per column (PostgreSQL: arrays expanded by `unnest`) or as one
JSON parameter (SQLite: expanded by `json_each`). Vendor-specific SQL, kept in this one helper;
other databases fall back on `bulk_create`.
"""

import json

from django.db import connection


def _columns(model, objs):
    """[(field, [converted value of each row])] for every concrete column but the primary key."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = []
    for field in fields:
        converted = {}
        values = []
        for obj in objs:
            value = getattr(obj, field.attname)
            try:
                prepared = converted[value]
            except KeyError:
                prepared = converted[value] = field.get_db_prep_save(value, connection)
            except TypeError:  # unhashable: convert every time
                prepared = field.get_db_prep_save(value, connection)
            values.append(prepared)
        columns.append((field, values))
    return columns


def insert_rows(model, objs, *, ignore_conflicts=False) -> None:
    """INSERT `objs` (unsaved instances of `model`, every column but the primary key) in one
    statement. Rows violating a unique constraint are skipped when `ignore_conflicts`, else
    IntegrityError is raised. No signals are sent and no primary key is set on `objs`."""
    objs = list(objs)
    if not objs:
        return
    if connection.vendor not in ("postgresql", "sqlite"):
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    columns = _columns(model, objs)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(field.column) for field, _ in columns)
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field, _ in columns)
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"
        params = [values for _, values in columns]
    else:
        extract = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
        # "WHERE true" lets SQLite tell the SELECT from an ON CONFLICT clause that follows it.
        sql = f"INSERT INTO {table} ({names}) SELECT {extract} FROM json_each(%s) WHERE true"
        rows = [list(row) for row in zip(*(values for _, values in columns), strict=True)]
        params = [json.dumps(rows, default=str)]
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
