-- After inbox_insert_all_new failed on a seen id. No parameters.
ROLLBACK TO SAVEPOINT inbox
