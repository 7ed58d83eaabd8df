-- Before inbox_insert_all_new, so that its unique violation can be rolled back. No parameters.
SAVEPOINT inbox
