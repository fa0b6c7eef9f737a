"""Inserting many rows in one statement, whatever their number, on PostgreSQL and SQLite.

Django's `bulk_create` sends one INSERT on PostgreSQL, but splits it on SQLite into batches of
999 parameters (about a hundred rows), so that the number of queries grows with the rows. Here,
on SQLite, the rows travel as one JSON parameter expanded by `json_each`: vendor-specific SQL,
kept in this one helper.
"""

import json

from django.db import connection


def insert_rows(model, objs, *, ignore_conflicts=False) -> None:
    """INSERT `objs` (unsaved instances of `model`, every column but the primary key) in one
    statement. Rows violating a unique constraint are skipped when `ignore_conflicts`, else
    IntegrityError is raised. No signals are sent and no primary key is set on `objs`."""
    objs = list(objs)
    if not objs:
        return
    if connection.vendor != "sqlite":
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    model_fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in model_fields)
    values = ", ".join(f"json_extract(value, '$[{index}]')" for index in range(len(model_fields)))
    # Rows repeat the same few values (a child, a créneau, a timestamp…): convert each once.
    converted = [{} for _ in model_fields]

    def prepare(index, field, value):
        try:
            return converted[index][value]
        except KeyError:
            result = converted[index][value] = field.get_db_prep_save(value, connection)
            return result
        except TypeError:  # unhashable value
            return field.get_db_prep_save(value, connection)

    rows = [
        [prepare(i, field, getattr(obj, field.attname)) for i, field in enumerate(model_fields)]
        for obj in objs
    ]
    # "WHERE true" lets SQLite tell the SELECT from the ON CONFLICT clause that follows it.
    sql = f"INSERT INTO {table} ({columns}) SELECT {values} FROM json_each(%s) WHERE true"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, default=str)])
